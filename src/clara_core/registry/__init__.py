"""Finding components: entry points, pluggy hooks and dotted paths."""
