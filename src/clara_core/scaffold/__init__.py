"""``clara plugin new``: a ready-to-publish plugin distribution."""
