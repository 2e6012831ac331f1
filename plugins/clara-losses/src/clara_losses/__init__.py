"""Loss components for Clara BYOC, registered under ``clara.losses``."""
