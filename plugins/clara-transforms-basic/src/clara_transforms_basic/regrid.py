"""Resampling to a new grid: ``ScaleByResolution`` / ``ScaleBySpacing`` (to a voxel size
in mm), ``ScaleToShape`` and ``ScaleByFactor``.

All four keep the field of view (voxel edges aligned), interpolate linearly, or by
nearest neighbour with ``is_label``, through
:func:`~clara_transforms_basic.resampler.resample` (SciPy's ``affine_transform``),
and update the affine and spacing properties.
"""

from __future__ import annotations

from collections.abc import Sequence

from clara_core import ImageProperty, MedicalImage, MultiFieldTransformer, TransformContext
from clara_core.arguments import check_sizes
from clara_transforms_basic.geometry import scaling
from clara_transforms_basic.resampler import resample


def _positive_list(owner: str, arg: str, value: Sequence[float] | float) -> list[float]:
    values = [value] if isinstance(value, int | float) else list(value)
    if not values or not all(isinstance(v, int | float) and v > 0 for v in values):
        raise ValueError(f"Invalid value for argument `{arg}` of {owner}: expected a positive "
                         f"number or a list of positive numbers, received {value!r}.")
    return [float(v) for v in values]


def _per_axis(owner: str, arg: str, values: list[float], n: int) -> list[float]:
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise ValueError(f"{owner}: `{arg}` has {len(values)} values but the image has {n} "
                         "spatial axes: give one value, or one per axis.")
    return values


class _Rescale(MultiFieldTransformer):
    """Resample each field to the shape :meth:`new_shape` gives."""

    def __init__(self, fields: str | Sequence[str], is_label: bool = False) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.is_label = is_label

    def new_shape(self, image: MedicalImage) -> list[int]:
        raise NotImplementedError

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            old = image.spatial_shape()
            new = [max(1, int(s)) for s in self.new_shape(image)]
            if list(old) == new:
                continue
            transform_ctx.set_image(field, resample(image, scaling(old, new), new,
                                                    order=0 if self.is_label else 1))
        return transform_ctx


class ScaleByResolution(_Rescale):
    """Resample to ``target_resolution`` mm per voxel (one value, or one per axis), from
    the ``spacing`` the loader recorded.

    >>> import numpy as np
    >>> img = MedicalImage(np.ones((1, 10, 10, 4), "float32"), "CDHW", {"spacing": (1.0, 1.0, 3.0)})
    >>> ctx = TransformContext(); ctx.set_image("image", img)
    >>> out = ScaleByResolution("image", target_resolution=[2.0, 2.0, 2.0]).transform(ctx)
    >>> out.get_image("image").get_data().shape, out.get_image("image").get_property("spacing")
    ((1, 5, 5, 6), (2.0, 2.0, 2.0))
    """

    def __init__(self, fields: str | Sequence[str], target_resolution: Sequence[float] | float,
                 is_label: bool = False) -> None:
        _Rescale.__init__(self, fields=fields, is_label=is_label)
        self.target_resolution = target_resolution
        self._target = _positive_list(type(self).__name__, "target_resolution", target_resolution)

    def new_shape(self, image: MedicalImage) -> list[int]:
        shape = image.spatial_shape()
        spacing = image.get_property(ImageProperty.SPACING)
        if spacing is None:
            raise ValueError(f"{type(self).__name__}: image "
                             f"{image.get_property('filename', '(no file name)')} has no "
                             "'spacing' property: load it with LoadNifti/LoadImage, which "
                             "record it.")
        target = _per_axis(type(self).__name__, "target spacing", self._target, len(shape))
        return [round(n * s / t) for n, s, t in zip(shape, spacing[: len(shape)], target,
                                                    strict=True)]


class ScaleBySpacing(ScaleByResolution):
    """:class:`ScaleByResolution` under the name newer configs use, with ``target_spacing``.

    >>> ScaleBySpacing("image", target_spacing=1.5).target_spacing
    1.5
    """

    def __init__(self, fields: str | Sequence[str], target_spacing: Sequence[float] | float,
                 is_label: bool = False) -> None:
        _Rescale.__init__(self, fields=fields, is_label=is_label)
        self.target_spacing = target_spacing
        self._target = _positive_list("ScaleBySpacing", "target_spacing", target_spacing)


class ScaleToShape(_Rescale):
    """Resample to ``target_shape`` voxels.

    >>> import numpy as np
    >>> ctx = TransformContext(); ctx.set_image("label", MedicalImage(np.eye(4), "HW"))
    >>> ScaleToShape("label", [2, 2], is_label=True).transform(ctx).get_image("label").get_data()
    array([[1., 0.],
           [0., 1.]])
    """

    def __init__(self, fields: str | Sequence[str], target_shape: Sequence[int],
                 is_label: bool = False) -> None:
        _Rescale.__init__(self, fields=fields, is_label=is_label)
        check_sizes(type(self).__name__, "target_shape", target_shape)
        self.target_shape = list(target_shape)

    def new_shape(self, image: MedicalImage) -> list[int]:
        shape = image.spatial_shape()
        if len(self.target_shape) != len(shape):
            raise ValueError(f"{type(self).__name__}: target_shape {self.target_shape} has "
                             f"{len(self.target_shape)} axes but the image is "
                             f"{image.get_shape_format()} {image.get_data().shape}.")
        return self.target_shape


class ScaleByFactor(_Rescale):
    """Resample by ``factor`` (one value, or one per axis): 2 doubles the voxel count.

    >>> import numpy as np
    >>> ctx = TransformContext(); ctx.set_image("image", MedicalImage(np.ones((3, 4)), "HW"))
    >>> ScaleByFactor("image", 2).transform(ctx).get_image("image").get_data().shape
    (6, 8)
    """

    def __init__(self, fields: str | Sequence[str], factor: Sequence[float] | float,
                 is_label: bool = False) -> None:
        _Rescale.__init__(self, fields=fields, is_label=is_label)
        self.factor = factor
        self._factor = _positive_list("ScaleByFactor", "factor", factor)

    def new_shape(self, image: MedicalImage) -> list[int]:
        shape = image.spatial_shape()
        f = _per_axis("ScaleByFactor", "factor", self._factor, len(shape))
        return [round(n * z) for n, z in zip(shape, f, strict=True)]
