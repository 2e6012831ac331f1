"""Built-in inferers: whole image, and sliding window with overlap (the SDK's names)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clara_core.arguments import check_arguments, check_sizes
from clara_core.builtins.sliding_window import (
    CompiledWindows,
    importance_map,
    symmetric_padding,
)
from clara_core.components.inferer import Inferer


class TFSimpleInferer(Inferer):
    """Predict the whole image in one call (the model must accept its size)."""

    def infer(self, predict: Callable[[Any], Any], inputs: Any, data_format: str) -> Any:
        return np.asarray(predict(inputs))


class TFScanWindowInferer(Inferer):
    """Sliding-window inference, compiled in TensorFlow: windows of ``roi_size``
    overlapping by ``overlap`` go through the model ``batch_size`` at a time
    (``sw_batch_size`` is MONAI's name for it) inside one ``tf.function`` whose window
    batch has a fixed shape, so no image size retraces it; predictions are weighted by
    ``mode`` (``"constant"``, or ``"gaussian"`` with ``sigma_scale`` x the window per
    axis, as MONAI and nnU-Net) and averaged where windows overlap. An image smaller
    than a window is padded symmetrically with ``cval`` and cropped back.
    ``tta_flips`` (lists of spatial axes, e.g. ``[[0], [1], [0, 1]]``) adds test-time
    augmentation: each window is also predicted mirrored along those axes, flipped
    back and averaged.

    >>> inf = TFScanWindowInferer(roi_size=[4, 4], overlap=0.5, mode="gaussian")
    >>> x = np.arange(36, dtype="float32").reshape(1, 1, 6, 6)
    >>> bool(np.allclose(inf.infer(lambda w: w * 2, x, "channels_first"), x * 2, atol=1e-4))
    True
    """

    def __init__(self, roi_size: Sequence[int], batch_size: int = 1, overlap: float = 0.25,
                 mode: str = "constant", sigma_scale: float = 0.125, cval: float = 0.0,
                 sw_batch_size: int | None = None,
                 tta_flips: Sequence[Sequence[int]] | None = None) -> None:
        owner = type(self).__name__
        check_sizes(owner, "roi_size", roi_size)
        check_arguments(owner, [
            ("overlap", overlap, 0.0 <= overlap < 1.0, "a float in [0, 1)"),
            ("batch_size", batch_size, 1 <= batch_size <= 1024, "an integer in [1, 1024]"),
            ("sw_batch_size", sw_batch_size, sw_batch_size is None or
             1 <= sw_batch_size <= 1024, "an integer in [1, 1024] or null"),
            ("mode", mode, mode in ("constant", "gaussian"), "'constant' or 'gaussian'"),
            ("sigma_scale", sigma_scale, 0 < sigma_scale <= 10, "a number in (0, 10]"),
            ("tta_flips", tta_flips, tta_flips is None or all(
                bool(axes) and all(isinstance(a, int) and 0 <= a < len(roi_size)
                                   for a in axes) for axes in tta_flips),
             f"lists of spatial axes in [0, {len(roi_size) - 1}]"),
        ])
        self.roi_size, self.batch_size, self.overlap = list(roi_size), batch_size, overlap
        self.sw_batch_size, self.mode, self.sigma_scale = sw_batch_size, mode, sigma_scale
        self.cval = cval
        self.tta_flips = [list(a) for a in tta_flips] if tta_flips else []
        self._compiled: dict[tuple[Any, ...], CompiledWindows] = {}

    def get_roi_size(self) -> list[int]:
        return list(self.roi_size)

    def _windows_for(self, predict: Callable[[Any], Any], model_first: bool) -> CompiledWindows:
        """One compiled step per model (bound methods are rebuilt on each access: key
        on the function and its object)."""
        key = (getattr(predict, "__func__", predict), id(getattr(predict, "__self__", None)),
               model_first)
        if key not in self._compiled:
            weights = importance_map(self.roi_size, self.mode, self.sigma_scale)
            self._compiled[key] = CompiledWindows(
                predict, self.roi_size, self.sw_batch_size or self.batch_size, weights,
                model_first, self.tta_flips)
        return self._compiled[key]

    def infer(self, predict: Callable[[Any], Any], inputs: Any, data_format: str) -> Any:
        x = np.asarray(inputs, np.float32)
        first = data_format == "channels_first"
        if first:
            x = np.moveaxis(x, 1, -1)  # the window arithmetic is channels last
        spatial = x.shape[1:-1]
        if len(spatial) != len(self.roi_size):
            raise ValueError(f"{type(self).__name__}: roi_size {self.roi_size} does not match "
                             f"the image's {len(spatial)} spatial axes {spatial}.")
        pad = symmetric_padding(spatial, self.roi_size)
        x = np.pad(x, [(0, 0), *pad, (0, 0)], constant_values=self.cval)
        out = np.asarray(self._windows_for(predict, first).run(x, self.overlap))
        out = out[(slice(None), *[slice(b, b + s) for (b, _), s in zip(pad, spatial,
                                                                          strict=True)])]
        return np.moveaxis(out, -1, 1) if first else out
