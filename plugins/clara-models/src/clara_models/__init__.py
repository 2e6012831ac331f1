"""Network components for Clara BYOC, registered under ``clara.models``."""
