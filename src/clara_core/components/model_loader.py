"""``ModelLoader``: loads a trained model for validation and inference."""

from __future__ import annotations

from typing import Any

from clara_core.components.base import Component


class ModelLoader(Component):
    """Base of model loaders (checkpoint, exported model)."""

    def load(self, build_ctx: Any) -> Any:
        """Return a callable Keras model (or a loaded SavedModel)."""
        raise NotImplementedError(f"Class {type(self).__name__} does not implement load.")
