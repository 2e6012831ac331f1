"""Sliding-window inference in TensorFlow: window placement, importance weights and the
compiled step that gathers, predicts and accumulates a fixed-size batch of windows.

Placement and weights follow MONAI's ``sliding_window_inference`` (and nnU-Net's
Gaussian weighting): windows every ``roi * (1 - overlap)`` voxels, the last one
flush with the image's end; an image smaller than the window is padded
symmetrically; each window's prediction is weighted (1 everywhere, or a Gaussian of
``sigma_scale * roi`` per axis) and the output is the weighted mean.

>>> window_starts((10, 4), (4, 4), 0.5)
[(0, 0), (2, 0), (4, 0), (6, 0)]
>>> [round(float(w), 3) for w in importance_1d(5, 0.125 * 5)]
[0.006, 0.278, 1.0, 0.278, 0.006]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def axis_starts(size: int, roi: int, overlap: float) -> list[int]:
    """Window starts along one axis of ``size`` (already at least ``roi``) voxels.

    >>> axis_starts(10, 4, 0.25), axis_starts(4, 4, 0.5)
    ([0, 3, 6], [0])
    """
    if size <= roi:
        return [0]
    step = max(int(roi * (1 - overlap)), 1)
    count = math.ceil((size - roi) / step) + 1
    return sorted({min(i * step, size - roi) for i in range(count)})


def window_starts(shape: Sequence[int], roi: Sequence[int],
                  overlap: float) -> list[tuple[int, ...]]:
    """Every window's start, in C order of the spatial axes."""
    return list(itertools.product(*[axis_starts(s, r, overlap)
                                    for s, r in zip(shape, roi, strict=True)]))


def symmetric_padding(shape: Sequence[int], roi: Sequence[int]) -> list[tuple[int, int]]:
    """``(before, after)`` per spatial axis so that every axis is at least ``roi``.

    >>> symmetric_padding((3, 8), (6, 4))
    [(1, 2), (0, 0)]
    """
    return [(max(r - s, 0) // 2, max(r - s, 0) - max(r - s, 0) // 2)
            for s, r in zip(shape, roi, strict=True)]


def importance_1d(size: int, sigma: float) -> np.ndarray:
    """A Gaussian over ``size`` voxels centred on the window's middle (1 there)."""
    x = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    return np.exp(-(x**2) / (2.0 * sigma**2))


def importance_map(roi: Sequence[int], mode: str, sigma_scale: float) -> np.ndarray:
    """The weight of each voxel of a window (``roi`` shape, float32).

    Gaussian weights are clamped below at their smallest value (at least 1e-3), as
    MONAI does, so that no voxel of the image ends with a zero total weight.

    >>> importance_map((3, 3), "constant", 0.125).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    >>> float(importance_map((5, 5), "gaussian", 0.125).min()) >= 1e-3
    True
    """
    if mode == "constant":
        return np.ones(tuple(roi), np.float32)
    weights = np.ones((), np.float64)
    for r in roi:
        weights = np.multiply.outer(weights, importance_1d(r, sigma_scale * r))
    return np.maximum(weights, max(float(weights.min()), 1e-3)).astype(np.float32)


def add_box(total: Any, begin: Any, end: Any, value: Any, last: int | None = None) -> Any:
    """``total`` with ``value`` added in the box ``[begin, end)`` (the channel axis
    whole); the update reuses ``total``'s buffer when nothing else holds it."""
    import tensorflow as tf

    if last is not None:
        end = tf.concat([end, [last]], 0)
    strides = tf.ones_like(begin)
    box = tf.strided_slice(total, begin, end, strides)
    return tf.raw_ops.TensorStridedSliceUpdate(input=total, begin=begin, end=end,
                                               strides=strides, value=box + value)


class CompiledWindows:
    """The compiled part of sliding-window inference for one ``predict``.

    :meth:`run` takes a channels-last image ``(1, *spatial, C)`` already padded to at
    least the window size and returns the weighted-mean prediction, channels last.
    One ``tf.function`` per input channel count (:attr:`functions`) does all of it
    for any image size without retracing: a loop over batches of ``batch`` windows
    that gathers them, predicts them (with the mirrored copies for TTA) and adds the
    weighted predictions and the weights into two accumulators box by box (in
    place); nothing goes back to the host until the result is read.
    """

    def __init__(self, predict: Callable[[Any], Any], roi: Sequence[int], batch: int,
                 weights: np.ndarray, model_first: bool,
                 flips: Sequence[Sequence[int]] = ()) -> None:
        import tensorflow as tf

        self.predict, self.roi, self.batch = predict, tuple(roi), batch
        self.model_first = model_first
        self.flips = [tuple(f) for f in flips]
        self.weights = tf.constant(weights[..., None])  # (*roi, 1)
        self._probe = tf.function(predict)
        self._channels_out: dict[int, int] = {}
        #: the compiled function per input channel count (any image size, no retrace)
        self.functions: dict[int, Any] = {}

    def _function(self, channels: int) -> Any:
        import tensorflow as tf

        if channels not in self.functions:
            def infer(image: Any, starts: Any, valid: Any) -> Any:
                return self._infer(image, starts, valid, channels)

            self.functions[channels] = tf.function(infer, input_signature=[
                tf.TensorSpec([1, *[None] * len(self.roi), channels], tf.float32),
                tf.TensorSpec([None, len(self.roi)], tf.int32),
                tf.TensorSpec([None], tf.float32)])
        return self.functions[channels]

    def _predict_windows(self, windows: Any) -> Any:
        """The model's prediction of a window batch, channels last, float32; with TTA
        the mean over the mirrored copies (each flipped back)."""
        import tensorflow as tf

        rank = len(self.roi) + 2

        def once(x: Any) -> Any:
            if self.model_first:
                x = tf.transpose(x, [0, rank - 1, *range(1, rank - 1)])
            y = self.predict(x)
            y = y[0] if isinstance(y, (list, tuple)) else y
            if self.model_first:
                y = tf.transpose(y, [0, *range(2, rank), 1])
            return tf.cast(y, tf.float32)

        total = once(windows)
        for axes in self.flips:
            spatial = [a + 1 for a in axes]
            total += tf.reverse(once(tf.reverse(windows, spatial)), spatial)
        return total / float(1 + len(self.flips))

    def _infer(self, image: Any, starts: Any, valid: Any, channels: int) -> Any:
        import tensorflow as tf

        volume = image[0]
        spatial = tf.shape(volume)[:-1]
        out_channels = self._output_channels(channels)
        out = tf.zeros(tf.concat([spatial, [out_channels]], 0))
        norm = tf.zeros(tf.concat([spatial, [1]], 0))
        size = [*self.roi, channels]
        for b in tf.range(tf.shape(starts)[0] // self.batch):
            first = b * self.batch
            windows = tf.stack([tf.slice(volume, tf.concat([starts[first + i], [0]], 0), size)
                                for i in range(self.batch)])
            pred = self._predict_windows(windows) * self.weights
            for i in range(self.batch):
                begin = tf.concat([starts[first + i], [0]], 0)
                end = begin + tf.concat([self.roi, [out_channels]], 0)
                keep = valid[first + i]
                out = add_box(out, begin, end, pred[i] * keep)
                norm = add_box(norm, begin, end[:-1], self.weights * keep, last=1)
        return (out / norm)[None]

    def run(self, image: Any, overlap: float) -> Any:
        """The weighted-mean prediction of ``image`` (a NumPy array)."""
        import tensorflow as tf

        spatial = tuple(int(s) for s in image.shape[1:-1])
        starts = window_starts(spatial, self.roi, overlap)
        spare = -len(starts) % self.batch  # the last batch is filled with weightless copies
        valid = [1.0] * len(starts) + [0.0] * spare
        starts = starts + [starts[-1]] * spare
        return self._function(int(image.shape[-1]))(
            tf.convert_to_tensor(image, tf.float32), tf.constant(starts, tf.int32),
            tf.constant(valid, tf.float32))

    def _output_channels(self, channels: int) -> int:
        """The model's output channels for ``channels`` input channels, read off one
        traced call (cached: no prediction runs)."""
        import tensorflow as tf

        if channels not in self._channels_out:
            shape = [1, channels, *self.roi] if self.model_first else [1, *self.roi, channels]
            out = self._probe.get_concrete_function(
                tf.TensorSpec(shape, tf.float32)).structured_outputs
            out = out[0] if isinstance(out, (list, tuple)) else out
            self._channels_out[channels] = int(out.shape[1 if self.model_first else -1])
        return self._channels_out[channels]

__all__ = ["CompiledWindows", "axis_starts", "importance_map", "symmetric_padding",
           "window_starts"]
