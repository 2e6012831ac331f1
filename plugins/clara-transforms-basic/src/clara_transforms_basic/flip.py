"""Random flips: ``RandomSpatialFlip`` (each axis with a probability) and
``RandomAxisFlip`` (one random axis). All fields flip together and the affine follows."""

from __future__ import annotations

from collections.abc import Sequence

from clara_core import MultiFieldTransformer, RandomTransform, TransformContext
from clara_core.arguments import check_argument
from clara_transforms_basic.geometry import flip
from clara_transforms_basic.lazy import move


def flip_fields(ctx: TransformContext, fields: Sequence[str], axes: Sequence[int]) -> None:
    """Flip ``fields`` along spatial ``axes`` (:func:`~clara_transforms_basic.lazy.move`:
    one more map for a lazy image, a view of a concrete one; the batch stacking
    copies once)."""
    for field in fields:
        img = ctx.get_image(field)
        shape = img.spatial_shape()
        ctx.set_image(field, move(img, flip(shape, axes), shape))


class RandomSpatialFlip(MultiFieldTransformer, RandomTransform):
    """Flip every field along each spatial axis with ``probability`` (the same flips for all).

    >>> import numpy as np
    >>> from clara_core import MedicalImage
    >>> t = RandomSpatialFlip(["image"], probability=1.0)
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.arange(4.0).reshape(1, 2, 2), "CHW"))
    >>> t.transform(ctx).get_image("image").get_data().tolist()
    [[[3.0, 2.0], [1.0, 0.0]]]
    """

    def __init__(self, fields: str | Sequence[str], probability: float = 0.5,
                 axes: Sequence[int] | None = None) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.set_probability(probability)
        check_argument(type(self).__name__, "axes", axes, axes is None or all(
            isinstance(a, int) and 0 <= a < 3 for a in axes), "spatial axes in [0, 2] or null")
        self.axes = None if axes is None else list(axes)

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        first = transform_ctx.get_image(self.fields[0]).get_shape_format()
        n_spatial = first.get_number_of_spatial_dims()
        candidates = self.axes if self.axes is not None else list(range(n_spatial))
        if any(a >= n_spatial for a in candidates):
            raise ValueError(f"{type(self).__name__}: axes {candidates} name a spatial axis "
                             f"that field {self.fields[0]!r} ({first}) does not have.")
        flips = [a for a in candidates if self.R.random() < self.probability]
        if flips:
            flip_fields(transform_ctx, self.fields, flips)
        return transform_ctx


class RandomAxisFlip(MultiFieldTransformer, RandomTransform):
    """With ``probability``, flip every field along one spatial axis drawn at random.

    >>> import numpy as np
    >>> from clara_core import MedicalImage
    >>> t = RandomAxisFlip("image", probability=1.0); t.set_random_state(0)
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.arange(4.0).reshape(2, 2), "HW"))
    >>> sorted(t.transform(ctx).get_image("image").get_data().ravel().tolist())
    [0.0, 1.0, 2.0, 3.0]
    """

    def __init__(self, fields: str | Sequence[str], probability: float = 0.5) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.set_probability(probability)

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        if not self.happens():
            return transform_ctx
        first = transform_ctx.get_image(self.fields[0]).get_shape_format()
        flip_fields(transform_ctx, self.fields,
                    [int(self.R.integers(first.get_number_of_spatial_dims()))])
        return transform_ctx
