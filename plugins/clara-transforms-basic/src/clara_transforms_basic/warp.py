"""Random spatial augmentation about the volume's centre: ``RandomZoom``,
``RandomRotate2D`` and ``RandomRotate3D``.

One draw per case moves image and label together; the image is interpolated
linearly, the label by nearest neighbour; the output keeps the input's shape and
the affine follows the map. The maps are lazy (:mod:`clara_transforms_basic.lazy`):
after a crop, the rotated or zoomed crop is sampled from the whole volume, once for
the crop and every spatial transform after it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import RandomTransform, TransformContext
from clara_transforms_basic.geometry import about_center, rotation
from clara_transforms_basic.lazy import move


class _RandomWarp(RandomTransform):
    """Draws one linear map per case (:meth:`draw`) and applies it to every field:
    ``image_field`` linearly, ``label_field`` by nearest neighbour. The SDK's ``fields``
    (a field or a list) names them all at once: each is an image, except the one
    that is ``label_field``."""

    def __init__(self, image_field: str = "image", label_field: str | None = "label",
                 probability: float = 0.5, fields: str | Sequence[str] | None = None) -> None:
        self.set_probability(probability)
        self.image_field, self.label_field, self.fields = image_field, label_field, fields
        if fields is None:
            self._moved = [(image_field, 1)] + ([(label_field, 0)] if label_field else [])
        else:
            names = [fields] if isinstance(fields, str) else list(fields)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise ValueError(f"Invalid value for argument `fields` of {type(self).__name__}: "
                                 f'expected a field or a list of fields such as ["image", '
                                 f'"label"], received {fields!r}.')
            self._moved = [(n, 0 if n == label_field else 1) for n in names]

    def fields_read(self) -> list[str] | None:
        """The fields moved: ``fields``, or ``image_field`` and ``label_field``."""
        return [name for name, _ in self._moved]

    def draw(self, n_spatial: int) -> np.ndarray:
        raise NotImplementedError

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        reference = self._moved[0][0]
        shape = transform_ctx.get_image(reference).spatial_shape()
        if not self.happens():
            return transform_ctx
        index_map = about_center(shape, self.draw(len(shape)))
        for field, order in self._moved:
            img = transform_ctx.get_image(field)
            if img.spatial_shape() != shape:
                raise ValueError(f"{type(self).__name__}: field {field!r} has spatial shape "
                                 f"{img.spatial_shape()} but {reference!r} has {shape}; "
                                 "image and label must be on the same grid.")
            transform_ctx.set_image(field, move(img, index_map, shape, order))
        return transform_ctx


class RandomZoom(_RandomWarp):
    """Zoom by a factor drawn per axis from ``[lower_limits, upper_limits]`` (> 1 magnifies),
    keeping the shape: zooming in crops the centre; zooming out takes in the tissue
    around a crop (from the volume it was cropped from) and pads with zeros past the
    volume's border.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.ones((1, 8, 8), "float32"), "CHW"))
    >>> t = RandomZoom("image", None, lower_limits=[0.5, 0.5], upper_limits=[0.5, 0.5],
    ...                probability=1.0)
    >>> t.transform(ctx).get_image("image").get_data()[0].sum()   # half size: a quarter of it
    np.float32(16.0)
    """

    def __init__(self, image_field: str = "image", label_field: str | None = "label",
                 lower_limits: Sequence[float] | float = 0.9,
                 upper_limits: Sequence[float] | float = 1.1, probability: float = 0.5,
                 fields: str | Sequence[str] | None = None) -> None:
        _RandomWarp.__init__(self, image_field=image_field, label_field=label_field,
                             probability=probability, fields=fields)
        lo = np.atleast_1d(np.asarray(lower_limits, float))
        hi = np.atleast_1d(np.asarray(upper_limits, float))
        if lo.shape != hi.shape or np.any(lo <= 0) or np.any(hi < lo):
            raise ValueError("Invalid values for arguments `lower_limits`/`upper_limits` of "
                             "RandomZoom: expected positive factors (one, or one per axis) with "
                             f"lower <= upper, received {lower_limits!r}/{upper_limits!r}.")
        self.lower_limits, self.upper_limits = lower_limits, upper_limits
        self._lo, self._hi = lo, hi

    def draw(self, n_spatial: int) -> np.ndarray:
        if self._lo.size not in (1, n_spatial):
            raise ValueError(f"{type(self).__name__}: {self._lo.size} zoom limits for an image with "
                             f"{n_spatial} spatial axes: give one value, or one per axis.")
        lo = np.broadcast_to(self._lo, (n_spatial,))
        hi = np.broadcast_to(self._hi, (n_spatial,))
        zoom = self.R.uniform(lo, hi)
        return np.diag(1.0 / zoom)  # output -> input: a magnified output samples closer in


class RandomRotate2D(_RandomWarp):
    """Rotate a 2D image by an angle drawn from ``[-angle, angle]`` degrees.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.arange(9.0).reshape(1, 3, 3), "CHW"))
    >>> t = RandomRotate2D("image", None, angle=90, probability=1.0)
    >>> t.draw = lambda n: np.array([[0.0, -1.0], [1.0, 0.0]])   # exactly 90 degrees
    >>> t.transform(ctx).get_image("image").get_data()[0]
    array([[6., 3., 0.],
           [7., 4., 1.],
           [8., 5., 2.]])
    """

    def __init__(self, image_field: str = "image", label_field: str | None = "label",
                 angle: float = 15.0, probability: float = 0.5,
                 fields: str | Sequence[str] | None = None) -> None:
        _RandomWarp.__init__(self, image_field=image_field, label_field=label_field,
                             probability=probability, fields=fields)
        self.angle = angle

    def draw(self, n_spatial: int) -> np.ndarray:
        if n_spatial != 2:
            raise ValueError(f"{type(self).__name__}: the image has {n_spatial} spatial axes; use "
                             "RandomRotate3D for volumes.")
        return rotation([np.deg2rad(self.R.uniform(-self.angle, self.angle))])


class RandomRotate3D(_RandomWarp):
    """Rotate a volume about each axis by angles drawn from ``[-angle, angle]`` degrees
    (``angle`` one value or one per axis; 0 leaves that axis alone).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> lab = np.zeros((1, 9, 9, 9), "float32"); lab[0, 3:6, 3:6, 3:6] = 1
    >>> ctx.set_image("image", MedicalImage(lab.copy(), "CDHW"))
    >>> ctx.set_image("label", MedicalImage(lab, "CDHW"))
    >>> t = RandomRotate3D(angle=[0, 0, 30], probability=1.0); t.set_random_state(0)
    >>> out = t.transform(ctx).get_image("label").get_data()
    >>> sorted(np.unique(out).tolist()), out.shape
    ([0.0, 1.0], (1, 9, 9, 9))
    """

    def __init__(self, image_field: str = "image", label_field: str | None = "label",
                 angle: Sequence[float] | float = 15.0, probability: float = 0.5,
                 fields: str | Sequence[str] | None = None) -> None:
        _RandomWarp.__init__(self, image_field=image_field, label_field=label_field,
                             probability=probability, fields=fields)
        self.angle = angle
        self._angle = np.broadcast_to(np.asarray(angle, float), (3,)).copy()

    def draw(self, n_spatial: int) -> np.ndarray:
        if n_spatial != 3:
            raise ValueError(f"{type(self).__name__}: the image has {n_spatial} spatial axes; use "
                             "RandomRotate2D for 2D images.")
        return rotation(np.deg2rad(self.R.uniform(-self._angle, self._angle)).tolist())
