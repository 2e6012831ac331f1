"""Built-in inferers: whole image, and sliding window with overlap (the SDK's names)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clara_core.arguments import check_arguments, check_sizes
from clara_core.components.inferer import Inferer


class TFSimpleInferer(Inferer):
    """Predict the whole image in one call (the model must accept its size)."""

    def infer(self, predict: Callable[[Any], Any], inputs: Any, data_format: str) -> Any:
        return np.asarray(predict(inputs))


def _starts(size: int, roi: int, step: int) -> list[int]:
    """Window starts covering ``size`` with windows of ``roi`` every ``step`` voxels.

    >>> _starts(10, 4, 3), _starts(4, 4, 3)
    ([0, 3, 6], [0])
    """
    if size <= roi:
        return [0]
    starts = list(range(0, size - roi, step)) + [size - roi]
    return sorted(set(starts))


class TFScanWindowInferer(Inferer):
    """Sliding-window inference: windows of ``roi_size`` overlapping by ``overlap``,
    predicted ``batch_size`` at a time and averaged where they overlap. Images
    smaller than a window are zero-padded and cropped back.

    >>> inf = TFScanWindowInferer(roi_size=[4, 4], overlap=0.5)
    >>> x = np.arange(36, dtype="float32").reshape(1, 1, 6, 6)
    >>> bool(np.allclose(inf.infer(lambda w: w * 2, x, "channels_first"), x * 2))
    True
    """

    def __init__(self, roi_size: Sequence[int], batch_size: int = 1,
                 overlap: float = 0.25) -> None:
        owner = type(self).__name__
        check_sizes(owner, "roi_size", roi_size)
        check_arguments(owner, [
            ("overlap", overlap, 0.0 <= overlap < 1.0, "a float in [0, 1)"),
            ("batch_size", batch_size, batch_size >= 1, "an integer >= 1"),
        ])
        self.roi_size, self.batch_size, self.overlap = list(roi_size), batch_size, overlap

    def infer(self, predict: Callable[[Any], Any], inputs: Any, data_format: str) -> Any:
        x = np.asarray(inputs)
        first = data_format == "channels_first"
        if not first:
            x = np.moveaxis(x, -1, 1)
        spatial = x.shape[2:]
        if len(spatial) != len(self.roi_size):
            raise ValueError(f"{type(self).__name__}: roi_size {self.roi_size} does not match the "
                             f"image's {len(spatial)} spatial axes {spatial}.")
        roi = self.roi_size
        pad = [(0, 0), (0, 0)] + [(0, max(r - s, 0)) for s, r in zip(spatial, roi, strict=True)]
        x = np.pad(x, pad)
        padded = x.shape[2:]
        steps = [max(int(r * (1 - self.overlap)), 1) for r in roi]
        windows = list(itertools.product(*[_starts(s, r, st) for s, r, st
                                           in zip(padded, roi, steps, strict=True)]))
        out: np.ndarray | None = None
        count = np.zeros((1, 1, *padded), np.float32)
        for i in range(0, len(windows), self.batch_size):
            chunk = windows[i:i + self.batch_size]
            slices = [tuple(slice(s, s + r) for s, r in zip(w, roi, strict=True)) for w in chunk]
            batch = np.concatenate([x[(slice(None), slice(None), *sl)] for sl in slices])
            if not first:
                batch = np.moveaxis(batch, 1, -1)
            pred = np.asarray(predict(batch), np.float32)
            if not first:
                pred = np.moveaxis(pred, -1, 1)
            if out is None:
                out = np.zeros((x.shape[0], pred.shape[1], *padded), np.float32)
            for j, sl in enumerate(slices):
                out[(slice(None), slice(None), *sl)] += pred[j:j + 1]
                count[(slice(None), slice(None), *sl)] += 1
        assert out is not None
        out /= count
        out = out[(slice(None), slice(None), *[slice(0, s) for s in spatial])]
        return out if first else np.moveaxis(out, 1, -1)
