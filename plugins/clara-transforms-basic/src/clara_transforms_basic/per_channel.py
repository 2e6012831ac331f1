"""Intensity functions on the channels of an image: every channel on its own
(:func:`per_channel`), or chosen channels only, the others kept (:func:`on_channels`,
the ``channels`` argument of the normalisation transforms: one window per CT channel
of a multi-modal case)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core.arguments import check_argument


def check_channels(owner: str, channels: Sequence[int] | None) -> None:
    """The ``channels`` argument of ``owner``: null or distinct indices >= 0."""
    ok = channels is None or (
        isinstance(channels, list | tuple) and len(channels) > 0
        and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in channels)
        and len(set(channels)) == len(channels))
    check_argument(owner, "channels", channels, ok,
                   "null (every channel) or a list of distinct channel indices >= 0")


def on_channels(owner: str, field: str, image: Any, channels: Sequence[int],
                fn: Any) -> np.ndarray:
    """``fn`` applied to ``channels`` of the image (indices along its channel axis; an
    image without one is channel 0), the other channels kept as they are.

    >>> from clara_core import MedicalImage
    >>> img = MedicalImage(np.array([[[1.0, 10.0]]]), "HWC")
    >>> on_channels("T", "image", img, [1], lambda a: a * 2).tolist()
    [[[1.0, 20.0]]]
    """
    data = image.get_data()
    axis = image.get_shape_format().get_channel_axis()
    count = 1 if axis is None else int(data.shape[axis])
    absent = [c for c in channels if c >= count]
    if absent:
        raise ValueError(f"{owner}: field {field!r} has {count} channel(s) (0 to {count - 1}); "
                         f"there is no channel {', '.join(map(str, absent))} to change. Set "
                         "`channels` to the image's channels (a model of several channels "
                         "takes cases with all of them).")
    parts = [data] if axis is None else list(np.moveaxis(data, axis, 0))
    out = [fn(p) if c in channels else p for c, p in enumerate(parts)]
    dtype = np.result_type(*out)
    if axis is None:
        return out[0].astype(dtype, copy=False)  # type: ignore[no-any-return]
    return np.stack([o.astype(dtype, copy=False) for o in out], axis=axis)


def per_channel(data: np.ndarray, channel_axis: int | None, fn: Any) -> np.ndarray:
    """``fn`` applied to each channel along ``channel_axis`` (None: the whole array)."""
    if channel_axis is None:
        return fn(data)  # type: ignore[no-any-return]
    return np.stack([fn(c) for c in np.moveaxis(data, channel_axis, 0)], axis=channel_axis)


__all__ = ["check_channels", "on_channels", "per_channel"]
