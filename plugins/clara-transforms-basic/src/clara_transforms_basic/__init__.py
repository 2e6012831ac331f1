"""Loaders and transforms for Clara BYOC, registered under ``clara.transforms``."""
