"""``Inferer``: turns a model and a whole image into a whole-image prediction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clara_core.components.base import Component


class Inferer(Component):
    """Base class of inferers (whole-image, sliding-window, ...).

    The engine calls :meth:`infer` on each case and reads :meth:`get_roi_size`:
    ``clara infer`` keeps the configured window size when it builds its own sliding
    window (Gaussian weighting, ``--tta``), and uses a whole-image inferer as it is.
    """

    def infer(self, predict: Callable[[Any], Any], inputs: Any, data_format: str) -> Any:
        """Predict for batched ``inputs`` by calling ``predict`` on model-sized pieces."""
        raise NotImplementedError(f"Class {type(self).__name__} does not implement infer.")

    def get_roi_size(self) -> list[int] | None:
        """The spatial size of the windows the model sees, or None when the inferer
        predicts whole images. Default: the constructor's ``roi_size`` argument.

        >>> class Windows(Inferer):
        ...     def __init__(self, roi_size=(8, 8)):
        ...         pass
        >>> Windows().get_roi_size(), Inferer().get_roi_size()
        ([8, 8], None)
        """
        value = self.init_arg("roi_size")
        return [int(s) for s in value] if isinstance(value, list | tuple) and value else None
