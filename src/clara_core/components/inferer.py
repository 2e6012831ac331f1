"""``Inferer``: turns a model and a whole image into a whole-image prediction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clara_core.components.base import Component


class Inferer(Component):
    """Base class of inferers (whole-image, sliding-window, ...)."""

    def infer(self, predict: Callable[[Any], Any], inputs: Any, data_format: str) -> Any:
        """Predict for batched ``inputs`` by calling ``predict`` on model-sized pieces."""
        raise NotImplementedError(f"Class {type(self).__name__} does not implement infer.")
