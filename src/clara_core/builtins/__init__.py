"""Components core ships, registered through core's own entry points like any plugin."""
