"""Validation metrics for Clara BYOC, registered under ``clara.metrics``."""
