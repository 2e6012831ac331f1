"""Fixed-size crops and padding: ``CropFixedSizeRandomCenter``, ``CropSubVolumeCenter``,
``CropForegroundObject`` and ``SymmetricPadderDiv``.

Each moves every field by the same box, pads with zeros where the box leaves the
image, and shifts the affine so the crop stays where it was in the scanner's space.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MedicalImage, MultiFieldTransformer, RandomTransform, TransformContext
from clara_core.arguments import check_sizes
from clara_transforms_basic.geometry import crop_or_pad
from clara_transforms_basic.lazy import cut


def _sizes(owner: str, size: Sequence[int]) -> list[int]:
    check_sizes(owner, "size", size)
    return list(size)


class _Box(MultiFieldTransformer):
    """Crops all fields with the box :meth:`box` computes from the first field."""

    def box(self, ctx: TransformContext, shape: tuple[int, ...]) -> tuple[list[int], list[int]]:
        raise NotImplementedError

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        first = transform_ctx.get_image(self.fields[0])
        shape = first.spatial_shape()
        start, size = self.box(transform_ctx, shape)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            if image.spatial_shape() != shape:
                raise ValueError(f"{type(self).__name__}: field {field!r} has spatial shape "
                                 f"{image.spatial_shape()} but {self.fields[0]!r} has {shape}; "
                                 "the fields must be on the same grid.")
            transform_ctx.set_image(field, self.cut(image, start, size))
        return transform_ctx

    def cut(self, image: MedicalImage, start: list[int], size: list[int]) -> MedicalImage:
        """The box of one field (a view of it where it fits)."""
        return crop_or_pad(image, start, size)

    def _fit(self, shape: tuple[int, ...]) -> list[int]:
        size: list[int] = self._size
        if len(size) != len(shape):
            raise ValueError(f"{type(self).__name__}: size {size} has {len(size)} axes but the "
                             f"image's spatial shape is {shape}.")
        return size


class CropSubVolumeCenter(_Box):
    """The central ``size`` box (zero-padded where the image is smaller).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.arange(16.0).reshape(4, 4), "HW"))
    >>> CropSubVolumeCenter("image", size=[2, 2]).transform(ctx).get_image("image").get_data()
    array([[ 5.,  6.],
           [ 9., 10.]])
    """

    def __init__(self, fields: str | Sequence[str], size: Sequence[int]) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.size = list(size)
        self._size = _sizes(type(self).__name__, size)

    def box(self, ctx: TransformContext, shape: tuple[int, ...]) -> tuple[list[int], list[int]]:
        size = self._fit(shape)
        return [(d - s) // 2 for d, s in zip(shape, size, strict=True)], size


class CropFixedSizeRandomCenter(_Box, RandomTransform):
    """A ``size`` box at a uniformly random position inside the image (all fields alike).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.zeros((1, 10, 10, 10)), "CDHW"))
    >>> t = CropFixedSizeRandomCenter("image", size=[4, 4, 4]); t.set_random_state(0)
    >>> t.transform(ctx).get_image("image").get_data().shape
    (1, 4, 4, 4)
    """

    def __init__(self, fields: str | Sequence[str], size: Sequence[int]) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.size = list(size)
        self._size = _sizes(type(self).__name__, size)

    def box(self, ctx: TransformContext, shape: tuple[int, ...]) -> tuple[list[int], list[int]]:
        size = self._fit(shape)
        start = [int(self.R.integers(0, d - s + 1)) if d > s else -((s - d) // 2)
                 for d, s in zip(shape, size, strict=True)]
        return start, size

    def cut(self, image: MedicalImage, start: list[int], size: list[int]) -> MedicalImage:
        """A lazy box: a spatial transform after it resamples from the whole image."""
        return cut(image, start, size)


class CropForegroundObject(_Box):
    """The bounding box of ``label_field > 0`` plus ``margin`` voxels, grown to at least
    ``size`` where given; a case without foreground keeps its whole extent.

    >>> from clara_core import MedicalImage
    >>> lab = np.zeros((8, 8)); lab[2:4, 3:6] = 1
    >>> ctx = TransformContext(); ctx.set_image("label", MedicalImage(lab, "HW"))
    >>> ctx.set_image("image", MedicalImage(np.ones((8, 8)), "HW"))
    >>> out = CropForegroundObject(["image", "label"], margin=1).transform(ctx)
    >>> out.get_image("image").get_data().shape
    (4, 5)
    """

    field_args = ("fields", "label_field")

    def __init__(self, fields: str | Sequence[str], label_field: str = "label",
                 margin: int | Sequence[int] = 0, size: Sequence[int] | None = None) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.label_field, self.margin = label_field, margin
        self.size = None if size is None else list(size)
        self._size = None if size is None else _sizes(type(self).__name__, size)

    def box(self, ctx: TransformContext, shape: tuple[int, ...]) -> tuple[list[int], list[int]]:
        label = ctx.get_image(self.label_field)
        if label.spatial_shape() != shape:
            raise ValueError(f"{type(self).__name__}: label field {self.label_field!r} has "
                             f"spatial shape {label.spatial_shape()} but the image has {shape}.")
        data, fmt = label.get_data(), label.get_shape_format()
        other = tuple(a for a in range(data.ndim) if a not in fmt.get_spatial_axes())
        mask = (data > 0).any(axis=other) if other else data > 0
        margin = np.broadcast_to(np.asarray(self.margin, int), (len(shape),))
        if mask.any():
            where = np.nonzero(mask)
            lo = np.array([w.min() for w in where]) - margin
            hi = np.array([w.max() + 1 for w in where]) + margin
            lo, hi = np.maximum(lo, 0), np.minimum(hi, shape)
        else:
            lo, hi = np.zeros(len(shape), int), np.array(shape)
        if self._size is not None:
            want = np.maximum(hi - lo, self._fit(shape))
            lo = (lo + hi) // 2 - want // 2
            hi = lo + want
        return [int(v) for v in lo], [int(v) for v in hi - lo]


class SymmetricPadderDiv(_Box):
    """Zero-pad each spatial axis equally on both sides to a multiple of ``size_div``
    (a network that halves the resolution k times needs multiples of 2**k).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext(); ctx.set_image("image", MedicalImage(np.ones((1, 5, 8)), "CHW"))
    >>> SymmetricPadderDiv("image", size_div=4).transform(ctx).get_image("image").get_data().shape
    (1, 8, 8)
    """

    def __init__(self, fields: str | Sequence[str], size_div: int | Sequence[int] = 16) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        divs = np.atleast_1d(np.asarray(size_div))
        if divs.dtype.kind not in "iu" or np.any(divs < 1):
            raise ValueError(f"Invalid value for argument `size_div` of {type(self).__name__}: "
                             f"expected a positive integer or a list of them, received "
                             f"{size_div!r}.")
        self.size_div = size_div

    def box(self, ctx: TransformContext, shape: tuple[int, ...]) -> tuple[list[int], list[int]]:
        div = np.broadcast_to(np.asarray(self.size_div, int), (len(shape),))
        want = -(-np.asarray(shape) // div) * div
        return [-int(p) for p in (want - shape) // 2], [int(w) for w in want]
