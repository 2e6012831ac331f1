"""Lazy spatial transforms: crops, flips, rotations, zooms and deformations that compose
their index maps and resample once, straight from the cached volume.

A :class:`LazyImage` is a :class:`~clara_core.MedicalImage` whose voxels are not
computed yet: it keeps the *source* image (the uncropped volume the chain's cache
holds), one index map per crop (output index -> source index) and the output's
spatial shape. A spatial transform given a lazy image multiplies its own map in
(:meth:`LazyImage.compose`) instead of interpolating; the first call to
``get_data()`` (any other transform, or the batcher) resamples each crop in one
pass (:func:`~clara_transforms_basic.resampler.resample_axes`). So a crop, a
rotation and a zoom cost one interpolation per field and crop, and a rotated crop's
corners hold the tissue next to it rather than zeros. The affine and spacing
properties follow the composed map as they would through the eager transforms.

This module is the one place that decides lazy or eager: spatial transforms call
:func:`move` (a map onto a grid) and :func:`cut` (a box), or :func:`lazy` where
only a lazy image will do (several crops stacked).

Labels are resampled by nearest neighbour: a transform that knows a field is a label
composes with ``order=0`` and the field keeps it. Maps that only shift, flip or
permute whole voxels are exact in either order, and copied by slicing.

>>> import numpy as np
>>> from clara_core import MedicalImage
>>> volume = MedicalImage(np.arange(64.0).reshape(1, 8, 8), "CHW")
>>> crop = lazy(volume).crop([[2, 2], [4, 4]], [3, 3])     # two 3x3 crops, stacked
>>> crop.get_shape_format(), crop.get_data().shape
(ShapeFormat('NCHW'), (2, 1, 3, 3))
>>> crop.get_data()[0, 0, 0].tolist()
[18.0, 19.0, 20.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MedicalImage, ShapeFormat
from clara_transforms_basic.geometry import (
    crop_or_pad,
    moved_properties,
    translation,
    with_index_map,
)
from clara_transforms_basic.resampler import integral_layout, resample, resample_axes


class LazyImage(MedicalImage):
    """A pending resampling of ``source``: ``maps`` (``N x (n+1) x (n+1)``) take an
    output index of crop ``k`` to a source index; ``shape`` is the output's spatial
    shape; ``batched`` stacks the ``N`` crops on a leading batch axis (``N`` is 1
    otherwise). ``displacement`` (``N x n x *shape`` or None) deforms the output grid
    before the map. Build one with :func:`lazy`; transforms use :meth:`compose`."""

    __slots__ = ("_source", "_maps", "_shape", "_batched", "_order", "_displacement")

    def __init__(self, source: MedicalImage, maps: np.ndarray, shape: Sequence[int],
                 batched: bool = False, order: int | None = None,
                 displacement: np.ndarray | None = None) -> None:
        if isinstance(source, LazyImage):
            raise TypeError("LazyImage: the source must be a concrete image; compose instead.")
        fmt = source.get_shape_format()
        if fmt.is_batched():
            raise ValueError(f"LazyImage: the source is already batched ({fmt}).")
        self._source, self._maps = source, np.asarray(maps, float)
        self._shape = tuple(int(s) for s in shape)
        self._batched, self._order, self._displacement = batched, order, displacement
        MedicalImage.__init__(self, None, ShapeFormat("N" + str(fmt)) if batched else fmt,
                              moved_properties(source.get_properties(),
                                               None if batched else self._maps[0]))

    def spatial_shape(self) -> tuple[int, ...]:
        """The output's spatial shape, known without resampling."""
        return self._shape

    @property
    def order(self) -> int:
        """The interpolation order the resampling will use (1 unless a label asked for 0)."""
        return 1 if self._order is None else self._order

    def compose(self, index_map: np.ndarray, shape: Sequence[int],
                order: int | None = None) -> LazyImage:
        """This image moved by ``index_map`` (new output index -> current output index)
        onto a grid of ``shape``: one map for every crop, or one per crop (``N x (n+1) x
        (n+1)``). ``order`` 0 marks a label (nearest neighbour from then on), 1 an
        image, None no preference."""
        new_order = _stricter(self._order, order)
        if self._displacement is not None:  # a map after a deformation: resample now
            return lazy(self._materialized()).compose(index_map, shape, new_order)
        maps = self._maps @ np.asarray(index_map, float)
        return LazyImage(self._source, maps, shape, self._batched, new_order)

    def crop(self, starts: Sequence[Sequence[float] | np.ndarray], size: Sequence[int],
             order: int | None = None) -> LazyImage:
        """One crop of ``size`` per start (stacked on a batch axis when there are
        several); boxes reaching outside the source take the padding value. ``order``
        as for :meth:`compose`."""
        if self._batched or self._displacement is not None or len(self._maps) != 1:
            return lazy(self._materialized()).crop(starts, size, order)
        maps = np.stack([self._maps[0] @ translation(s) for s in starts])
        return LazyImage(self._source, maps, size, len(starts) > 1, _stricter(self._order, order))

    def deform(self, displacement: np.ndarray, order: int | None = None) -> LazyImage:
        """Each crop's output grid moved by a dense ``displacement`` (``N x n x *shape``,
        in output voxels) before the map: an elastic deformation."""
        base = self if self._displacement is None else lazy(self._materialized())
        return LazyImage(base._source, base._maps, base._shape, base._batched,
                         _stricter(base._order, order), np.asarray(displacement, float))

    def _materialized(self) -> MedicalImage:
        """This image as a concrete one (the resampling done)."""
        return MedicalImage(self.get_data(), self._shape_format, self._properties)

    def _compute_data(self) -> np.ndarray:
        """The resampling, on the first ``get_data()``."""
        out = resample_axes(self._source.get_data(), self._source.get_shape_format(),
                            self._maps, self._shape, self.order, self._displacement)
        return out if self._batched else out[0]

    def __repr__(self) -> str:
        state = "resampled" if self._data is not None else "pending"
        return (f"LazyImage({state}, crops={len(self._maps)}, shape={self._shape}, "
                f"order={self.order}, format={self._shape_format})")


def _stricter(old: int | None, new: int | None) -> int | None:
    """The order after a transform asked for ``new``: a field once a label stays one."""
    return old if new is None else new if old is None else min(old, new)


def move(image: MedicalImage, index_map: np.ndarray, shape: Sequence[int],
         order: int | None = None) -> MedicalImage:
    """``image`` moved by ``index_map`` onto a grid of ``shape`` (``order`` as for
    :meth:`LazyImage.compose`): a lazy image composes the map; a concrete one is
    rearranged as a view when the map only flips or permutes its whole grid, is
    resampled now when it is a stack of crops another transform made concretely,
    and becomes lazy otherwise.

    >>> from clara_transforms_basic.geometry import flip
    >>> img = MedicalImage(np.arange(4.0).reshape(2, 2), "HW")
    >>> flipped = move(img, flip([2, 2], [0]), [2, 2])
    >>> type(flipped).__name__, flipped.get_data().tolist(), flipped.get_data().base is not None
    ('MedicalImage', [[2.0, 3.0], [0.0, 1.0]], True)
    """
    if isinstance(image, LazyImage):
        return image.compose(index_map, shape, order)
    view = _rearranged(image, index_map, shape)
    if view is not None:
        return with_index_map(image, view, image.get_shape_format(), index_map)
    if image.get_shape_format().is_batched():
        return resample(image, index_map, shape, order=1 if order is None else order)
    return lazy(image).compose(index_map, shape, order)


def cut(image: MedicalImage, start: Sequence[int], size: Sequence[int]) -> MedicalImage:
    """The box ``[start, start + size)`` of ``image``'s spatial axes, padded with zeros
    outside it: lazy (a spatial transform after it samples the whole image), or cut
    out now from a stack of crops."""
    if image.get_shape_format().is_batched():
        return crop_or_pad(image, start, size)
    return lazy(image).crop([start], size)


def _rearranged(image: MedicalImage, index_map: np.ndarray,
                shape: Sequence[int]) -> np.ndarray | None:
    """A concrete ``image``'s data as moved by a map that flips or permutes its whole
    grid (every voxel kept, none added), as a view; None for any other map."""
    layout = integral_layout(np.asarray(index_map, float))
    old = image.spatial_shape()
    if layout is None or tuple(int(s) for s in shape) != tuple(old[s] for s, _, _ in layout) \
            or any(first != (0 if step > 0 else old[source] - 1)
                   for source, step, first in layout):
        return None
    data, spatial = image.get_data(), image.get_shape_format().get_spatial_axes()
    index: list[slice] = [slice(None)] * data.ndim
    axes = list(range(data.ndim))
    for axis, (source, step, _) in enumerate(layout):
        index[spatial[source]] = slice(None, None, step)
        axes[spatial[axis]] = spatial[source]
    return data[tuple(index)].transpose(axes)


def lazy(image: MedicalImage) -> LazyImage:
    """``image`` as a lazy image (itself if it is one; a concrete image with the identity map)."""
    if isinstance(image, LazyImage):
        return image
    fmt = image.get_shape_format()
    if fmt.is_batched():  # crops already stacked concretely: resample each as a volume
        raise ValueError(f"lazy: field of format {fmt} is a stack of crops; spatial "
                         "transforms take it before the crop that stacks them.")
    shape = image.spatial_shape()
    return LazyImage(image, np.eye(len(shape) + 1)[None], shape)


__all__ = ["LazyImage", "cut", "lazy", "move"]
