"""Channel axes: ``ConvertToChannelsFirst``, ``ConvertToChannelsLast``, ``RepeatChannel``,
``SplitAcrossChannels``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MedicalImage, MultiFieldTransformer, TransformContext, Transformer
from clara_core.arguments import check_argument


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


class ConvertToChannelsLast(MultiFieldTransformer):
    """The partner of :class:`ConvertToChannelsFirst`: ``DHW`` -> ``DHWC`` (a channel
    axis of 1), ``CDHW`` -> ``DHWC``; likewise in 2D and for batches (``NCDHW`` ->
    ``NDHWC``). An image already channels last is left as it is.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.zeros((2, 4, 5, 6)), "CDHW"))
    >>> out = ConvertToChannelsLast("image").transform(ctx).get_image("image")
    >>> out.get_shape_format(), out.get_data().shape
    (ShapeFormat('DHWC'), (4, 5, 6, 2))
    """

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            img = transform_ctx.get_image(field)
            fmt = img.get_shape_format()
            data = img.get_data()
            if fmt.is_channels_last():
                continue
            axis = fmt.get_channel_axis()
            data = np.expand_dims(data, -1) if axis is None else np.moveaxis(data, axis, -1)
            transform_ctx.set_image(field, img.new_image(data, fmt.with_channels(False)))
        return transform_ctx


def _channel_axis(owner: str, field: str, image: MedicalImage) -> int:
    axis = image.get_shape_format().get_channel_axis()
    if axis is None:
        raise ValueError(f"{owner}: field {field!r} is {image.get_shape_format()} and has no "
                         "channel axis: put ConvertToChannelsFirst before it.")
    return axis


class RepeatChannel(MultiFieldTransformer):
    """Repeat a one-channel image ``repeat`` times along its channel axis (a grey image
    for a network pretrained on RGB).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext(); ctx.set_image("image", MedicalImage(np.ones((1, 2, 2)), "CHW"))
    >>> RepeatChannel("image", repeat=3).transform(ctx).get_image("image").get_data().shape
    (3, 2, 2)
    """

    def __init__(self, fields: str | Sequence[str], repeat: int = 3) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        check_argument(type(self).__name__, "repeat", repeat,
                       isinstance(repeat, int) and repeat >= 1, "an integer >= 1")
        self.repeat = repeat

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            img = transform_ctx.get_image(field)
            axis = _channel_axis("RepeatChannel", field, img)
            data = np.repeat(img.get_data(), self.repeat, axis=axis)
            transform_ctx.set_image(field, img.new_image(data, img.get_shape_format()))
        return transform_ctx


class SplitAcrossChannels(Transformer):
    """Split ``field``'s channels into one-channel fields ``field_0``, ``field_1``, ...
    (or the names in ``output_fields``).

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.arange(8.0).reshape(2, 2, 2), "CHW"))
    >>> out = SplitAcrossChannels("image", output_fields=["t1", "t2"]).transform(ctx)
    >>> out.get_image("t2").get_data().tolist()
    [[[4.0, 5.0], [6.0, 7.0]]]
    """

    field_args = ("field",)
    output_field_args = ("output_fields",)

    def __init__(self, field: str, output_fields: Sequence[str] | None = None) -> None:
        self.field = field
        self.output_fields = None if output_fields is None else list(output_fields)

    def fields_written(self) -> list[str] | None:
        """``output_fields``; without them one field per channel, so not known here."""
        return None if self.output_fields is None else Transformer.fields_written(self)

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        img = transform_ctx.get_image(self.field)
        axis = _channel_axis("SplitAcrossChannels", self.field, img)
        data = img.get_data()
        names = self.output_fields or [f"{self.field}_{i}" for i in range(data.shape[axis])]
        if len(names) != data.shape[axis]:
            raise ValueError(f"{type(self).__name__}: field {self.field!r} has {data.shape[axis]} "
                             f"channels but output_fields names {len(names)}: {names}.")
        for i, name in enumerate(names):
            part = np.take(data, [i], axis=axis)
            transform_ctx.set_image(name, img.new_image(part, img.get_shape_format()))
        return transform_ctx


class MergeBatchDims(MultiFieldTransformer):
    """The SDK's batch transform that merged the crops of each case into the batch axis
    (``B x N x C...`` to ``B*N x C...``): in ``batch_transforms``, a step takes
    ``output_batch_size`` cases with all the crops each gives. This engine splits a
    case's crops into samples before batching, so batches arrive merged; this checks
    that each field is one batch axis (``N...``) and passes the batch on.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.zeros((8, 1, 4, 4, 4)), "NCDHW"))
    >>> MergeBatchDims("image").transform(ctx).get_image("image").get_data().shape
    (8, 1, 4, 4, 4)
    """

    merges_case_samples = True

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            fmt = transform_ctx.get_image(field).get_shape_format()
            if not fmt.is_batched():
                raise ValueError(f"{type(self).__name__}: field {field!r} is {fmt}, not a batch; put "
                                 "MergeBatchDims in batch_transforms, not pre_transforms.")
        return transform_ctx


__all__ = ["ConvertToChannelsFirst", "ConvertToChannelsLast", "MergeBatchDims", "RepeatChannel", "SplitAcrossChannels"]
