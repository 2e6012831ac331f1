"""Label maps: one-hot channels (``ConvertToMultiChannelBasedOnLabel``), back
(``ArgmaxAcrossChannels``), and cleaning predictions (``KeepLargestCC``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MedicalImage, MultiFieldTransformer, TransformContext, Transformer
from clara_core.arguments import check_argument


def _channels_first(owner: str, field: str, image: MedicalImage) -> np.ndarray:
    fmt = image.get_shape_format()
    if fmt.is_batched() or not fmt.is_channels_first():
        raise ValueError(f"{owner}: field {field!r} is {fmt}; expected a channels-first image "
                         "(CHW or CDHW): put ConvertToChannelsFirst before it.")
    return image.get_data()


class ConvertToMultiChannelBasedOnLabel(MultiFieldTransformer):
    """One channel per label value: channel ``k`` is 1 where the label equals
    ``labels[k]``. Without ``labels``, the values present (0 excluded unless
    ``include_background``) are used; give them explicitly so that every case gets the
    same channels.

    >>> ctx = TransformContext()
    >>> ctx.set_image("label", MedicalImage(np.array([[[0, 1, 2, 2]]], "float32"), "CHW"))
    >>> out = ConvertToMultiChannelBasedOnLabel("label", labels=[1, 2]).transform(ctx)
    >>> out.get_image("label").get_data()[:, 0].tolist()
    [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    """

    def __init__(self, fields: str | Sequence[str], labels: Sequence[int] | None = None,
                 include_background: bool = False, dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.labels = None if labels is None else list(labels)
        self.include_background, self.dtype = include_background, dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = _channels_first("ConvertToMultiChannelBasedOnLabel", field, image)
            if data.shape[0] != 1:
                raise ValueError(f"{type(self).__name__}: field {field!r} has "
                                 f"{data.shape[0]} channels; expected one channel of label "
                                 "values.")
            values = self.labels
            if values is None:
                values = [v for v in np.unique(data).tolist()
                          if self.include_background or v != 0]
            out = np.concatenate([data == v for v in values]).astype(self.dtype)
            transform_ctx.set_image(field, image.new_image(out, image.get_shape_format()))
        return transform_ctx


class ArgmaxAcrossChannels(MultiFieldTransformer):
    """The index of the largest channel, as one channel (scores or one-hot to label values).

    >>> ctx = TransformContext()
    >>> ctx.set_image("pred", MedicalImage(np.array([[[0.9, 0.2]], [[0.1, 0.8]]]), "CHW"))
    >>> ArgmaxAcrossChannels("pred").transform(ctx).get_image("pred").get_data().tolist()
    [[[0.0, 1.0]]]
    """

    def __init__(self, fields: str | Sequence[str], dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.dtype = dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = _channels_first("ArgmaxAcrossChannels", field, image)
            out = np.argmax(data, axis=0)[None].astype(self.dtype)
            transform_ctx.set_image(field, image.new_image(out, image.get_shape_format()))
        return transform_ctx


class KeepLargestCC(MultiFieldTransformer):
    """Keep only the largest connected component of each non-zero label value (per
    channel), removing small false positives from a prediction.

    >>> ctx = TransformContext()
    >>> ctx.set_image("pred", MedicalImage(np.array([[[1, 1, 0, 1]]], "float32"), "CHW"))
    >>> KeepLargestCC("pred").transform(ctx).get_image("pred").get_data().tolist()
    [[[1.0, 1.0, 0.0, 0.0]]]
    """

    def __init__(self, fields: str | Sequence[str], connectivity: int = 1) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        check_argument(type(self).__name__, "connectivity", connectivity,
                       connectivity in (1, 2, 3), "1 (faces), 2 or 3 (corners)")
        self.connectivity = connectivity

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        from scipy import ndimage

        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = _channels_first("KeepLargestCC", field, image)
            rank = data.ndim - 1
            structure = ndimage.generate_binary_structure(rank, min(self.connectivity, rank))
            out = data.copy()
            for c in range(data.shape[0]):
                for value in np.unique(data[c]):
                    if value == 0:
                        continue
                    parts, n = ndimage.label(data[c] == value, structure)
                    if n > 1:
                        sizes = np.bincount(parts.ravel())[1:]
                        out[c][(parts > 0) & (parts != np.argmax(sizes) + 1)] = 0
            transform_ctx.set_image(field, image.new_image(out, image.get_shape_format()))
        return transform_ctx


class SplitBasedOnLabel(Transformer):
    """Split a label map into one binary field per label value: ``label_names[k]`` is 1
    where ``field`` equals ``k`` (the SDK's post-transform before per-class metrics).

    >>> ctx = TransformContext()
    >>> ctx.set_image("model", MedicalImage(np.array([[[0, 1, 2, 1]]], "float32"), "CHW"))
    >>> out = SplitBasedOnLabel("model", ["c0", "c1", "c2"]).transform(ctx)
    >>> out.get_image("c1").get_data().tolist()
    [[[0.0, 1.0, 0.0, 1.0]]]
    """

    def __init__(self, field: str, label_names: Sequence[str], dtype: str = "float32") -> None:
        if not label_names or not all(isinstance(n, str) and n for n in label_names):
            raise ValueError(f"Invalid value for argument `label_names` of {type(self).__name__}: "
                             "expected a non-empty list of field names, received "
                             f"{label_names!r}.")
        self.field, self.label_names, self.dtype = field, list(label_names), dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        image = transform_ctx.get_image(self.field)
        data = image.get_data()
        for value, name in enumerate(self.label_names):
            mask = (np.rint(data) == value).astype(self.dtype)
            transform_ctx.set_image(name, image.new_image(mask, image.get_shape_format()))
        return transform_ctx


class CopyProperties(MultiFieldTransformer):
    """Copy ``properties`` (such as ``affine``) of ``from_field``'s image to ``fields``.

    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.ones((2, 2)), "HW", {"affine": "A"}))
    >>> ctx.set_image("pred", MedicalImage(np.ones((2, 2)), "HW"))
    >>> CopyProperties("pred", "image", ["affine"]).transform(ctx).get_image("pred").get_property("affine")
    'A'
    """

    def __init__(self, fields: str | Sequence[str], from_field: str,
                 properties: Sequence[str]) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.from_field, self.properties = from_field, list(properties)

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        import copy

        source = transform_ctx.get_image(self.from_field)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            out = image.new_image(image.get_data(), image.get_shape_format())
            for key in self.properties:
                out.set_property(key, copy.deepcopy(source.get_property(key)))
            transform_ctx.set_image(field, out)
        return transform_ctx
