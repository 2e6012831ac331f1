"""``ZScoreNonzero``: zero mean, unit variance over the non-zero voxels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MultiFieldTransformer, TransformContext


class ZScoreNonzero(MultiFieldTransformer):
    """Normalise each field over its non-zero voxels; zeros (background) stay 0.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.array([[0.0, 2.0, 4.0]]), "CHW"))
    >>> ZScoreNonzero(["image"]).transform(ctx).get_image("image").get_data().tolist()
    [[0.0, -1.0, 1.0]]
    """

    def __init__(self, fields: str | Sequence[str], epsilon: float = 1e-8) -> None:
        MultiFieldTransformer.__init__(self, fields)
        self.epsilon = epsilon

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = image.get_data().astype(np.float32)
            mask = data != 0
            if mask.any():
                values = data[mask]
                data = np.where(mask, (data - values.mean()) / (values.std() + self.epsilon), 0)
            transform_ctx.set_image(field, image.new_image(data.astype(np.float32),
                                                           image.get_shape_format()))
        return transform_ctx
