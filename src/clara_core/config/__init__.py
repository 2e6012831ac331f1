"""Configs: loading, variables, overrides, validation and component creation."""
