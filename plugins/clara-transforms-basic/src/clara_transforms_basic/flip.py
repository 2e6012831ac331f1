"""``RandomSpatialFlip``: flip all fields along random spatial axes together."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MultiFieldTransformer, TransformContext


class RandomSpatialFlip(MultiFieldTransformer):
    """Flip every field along each spatial axis with ``probability`` (the same flips for all).

    >>> from clara_core import MedicalImage
    >>> t = RandomSpatialFlip(["image"], probability=1.0)
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.arange(4.0).reshape(1, 2, 2), "CHW"))
    >>> t.transform(ctx).get_image("image").get_data().tolist()
    [[[3.0, 2.0], [1.0, 0.0]]]
    """

    def __init__(self, fields: str | Sequence[str], probability: float = 0.5,
                 axes: Sequence[int] | None = None) -> None:
        MultiFieldTransformer.__init__(self, fields)
        if not 0.0 <= probability <= 1.0:
            raise ValueError("Invalid value for argument `probability` of RandomSpatialFlip: "
                             f"expected a float in [0, 1], received {probability!r}.")
        self.probability = probability
        self.axes = None if axes is None else list(axes)

    def is_deterministic(self) -> bool:
        return False

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        first = transform_ctx.get_image(self.fields[0]).get_shape_format()
        n_spatial = first.get_number_of_spatial_dims()
        candidates = self.axes if self.axes is not None else list(range(n_spatial))
        flips = [a for a in candidates if self.R.random() < self.probability]
        if not flips:
            return transform_ctx
        for field in self.fields:
            img = transform_ctx.get_image(field)
            spatial = img.get_shape_format().get_spatial_axes()
            data = np.flip(img.get_data(), axis=[spatial[a] for a in flips])
            # a view: the pipeline's final batch stacking makes the one copy
            transform_ctx.set_image(field, img.new_image(data, img.get_shape_format()))
        return transform_ctx
