"""``Writer``: writes a field of each validated case to disk."""

from __future__ import annotations

from clara_core.components.base import Component
from clara_core.image.transform_ctx import TransformContext


class Writer(Component):
    """Base of writers (e.g. NIfTI with the input's geometry)."""

    def write(self, transform_ctx: TransformContext) -> list[str]:
        """Write this case's output; return the paths written."""
        raise NotImplementedError(f"Class {type(self).__name__} does not implement write.")

    def finalize(self) -> list[str]:
        """After the last case: write what covers every case (a summary file); return
        the paths written. Most writers write per case and have nothing left."""
        return []
