"""``ConvertToChannelsFirst``: give images a leading channel axis."""

from __future__ import annotations

import numpy as np

from clara_core import MultiFieldTransformer, TransformContext


class ConvertToChannelsFirst(MultiFieldTransformer):
    """``DHW`` -> ``CDHW`` (a channel axis of 1), ``DHWC`` -> ``CDHW``; likewise in 2D.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.zeros((4, 5, 6, 2)), "DHWC"))
    >>> out = ConvertToChannelsFirst("image").transform(ctx).get_image("image")
    >>> out.get_shape_format(), out.get_data().shape
    (ShapeFormat('CDHW'), (2, 4, 5, 6))
    """

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            img = transform_ctx.get_image(field)
            fmt = img.get_shape_format()
            data = img.get_data()
            if fmt.is_channels_first():
                continue
            axis = 1 if fmt.is_batched() else 0
            if fmt.is_channels_last():
                data = np.moveaxis(data, -1, axis)
            else:
                data = np.expand_dims(data, axis)
            transform_ctx.set_image(field, img.new_image(data, fmt.with_channels(True)))
        return transform_ctx
