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
    ``labels[k]``, or, for an entry that is a list of values (a region, as nnU-Net's
    region-based labels: whole tumour ``[1, 2, 3]``), where it is any of them; regions
    may overlap. Without ``labels``, the values present (0 excluded unless
    ``include_background``) are used; give them explicitly so that every case gets the
    same channels.

    >>> ctx = TransformContext()
    >>> ctx.set_image("label", MedicalImage(np.array([[[0, 1, 2, 2]]], "float32"), "CHW"))
    >>> out = ConvertToMultiChannelBasedOnLabel("label", labels=[1, 2]).transform(ctx)
    >>> out.get_image("label").get_data()[:, 0].tolist()
    [[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    >>> regions = ConvertToMultiChannelBasedOnLabel("label", labels=[[1, 2], 2],
    ...                                             regions_class_order=[1, 2])
    >>> out = regions.transform(
    ...     TransformContext({"label": MedicalImage(np.array([[[0, 1, 2]]]), "CHW")}))
    >>> out.get_image("label").get_data()[:, 0].tolist()
    [[0.0, 1.0, 1.0], [0.0, 0.0, 1.0]]

    ``regions_class_order`` (nnU-Net v2's, one label value per region) turns region
    channels back into one label map, each region painted in order over the earlier
    ones (:meth:`label_values`; ``clara infer`` writes that map):

    >>> regions.label_values(np.array([[[0, 1, 1]], [[0, 0, 1]]])).tolist()
    [[[0, 1, 2]]]
    """

    def __init__(self, fields: str | Sequence[str],
                 labels: Sequence[int | Sequence[int]] | None = None,
                 include_background: bool = False, dtype: str = "float32",
                 regions_class_order: Sequence[int] | None = None) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        check_argument(type(self).__name__, "labels", labels, labels is None or (
            isinstance(labels, list | tuple) and len(labels) > 0
            and all(_is_value(v) or (isinstance(v, list | tuple) and len(v) > 0
                                     and all(_is_value(x) for x in v)) for v in labels)),
            "null (the values present) or a list of label values, each an integer or a "
            "list of integers (a region)")
        self.labels = None if labels is None else [
            list(v) if isinstance(v, list | tuple) else v for v in labels]
        self.include_background, self.dtype = include_background, dtype
        check_argument(type(self).__name__, "regions_class_order", regions_class_order,
                       regions_class_order is None or (
                           _numbers(regions_class_order) and self.labels is not None
                           and len(regions_class_order) == len(self.labels)),
                       "null, or one label value per entry of labels")
        self.regions_class_order = None if regions_class_order is None else [
            int(v) for v in regions_class_order]

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
            out = np.concatenate([np.isin(data, v) for v in values]).astype(self.dtype)
            transform_ctx.set_image(field, image.new_image(out, image.get_shape_format()))
        return transform_ctx

    def label_values(self, classes: np.ndarray) -> np.ndarray:
        """Region channels (channels first, one per entry of ``labels``) as one label
        map: each channel painted with its ``regions_class_order`` value, in order.
        Without ``regions_class_order``, or for another number of channels, unchanged."""
        order = self.regions_class_order
        if order is None or np.ndim(classes) < 2 or np.shape(classes)[0] != len(order):
            return classes
        out = np.zeros((1, *np.shape(classes)[1:]), dtype=np.result_type(
            np.asarray(classes).dtype, np.asarray(order).dtype))
        for channel, value in zip(np.asarray(classes), order, strict=True):
            out[0][channel > 0] = value
        return out


def _is_value(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and float(value).is_integer()


class MapLabelValue(MultiFieldTransformer):
    """Label values renumbered: ``orig_labels[k]`` becomes ``target_labels[k]`` (as
    MONAI's ``MapLabelValue``); other values are kept. ``clara plan`` uses it to make a
    dataset's label values (a mask stored as 0/255) the classes ``0 .. K-1``.

    >>> ctx = TransformContext({"label": MedicalImage(np.array([[0, 255, 255]]), "HW")})
    >>> out = MapLabelValue("label", [0, 255], [0, 1]).transform(ctx)
    >>> out.get_image("label").get_data().tolist()
    [[0.0, 1.0, 1.0]]
    >>> MapLabelValue("label", [0, 255], [0, 1]).label_values(np.array([0, 1])).tolist()
    [0, 255]
    """

    def __init__(self, fields: str | Sequence[str], orig_labels: Sequence[float],
                 target_labels: Sequence[float], dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        owner = type(self).__name__
        check_argument(owner, "orig_labels", orig_labels,
                       _numbers(orig_labels) and len(set(orig_labels)) == len(orig_labels),
                       "a list of distinct label values")
        check_argument(owner, "target_labels", target_labels,
                       _numbers(target_labels) and len(target_labels) == len(orig_labels),
                       "a list of values, one for each of orig_labels")
        self.orig_labels, self.target_labels = list(orig_labels), list(target_labels)
        self.dtype = dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = image.get_data()
            out = data.astype(self.dtype, copy=True)
            for orig, target in zip(self.orig_labels, self.target_labels, strict=True):
                out[data == orig] = target
            transform_ctx.set_image(field, image.new_image(out, image.get_shape_format()))
        return transform_ctx

    def label_values(self, classes: np.ndarray) -> np.ndarray:
        """``target_labels[k]`` back to ``orig_labels[k]`` (the first, where several
        values were merged into one); other values kept."""
        values = np.asarray(classes)
        out = values.astype(np.result_type(values.dtype, np.asarray(self.orig_labels).dtype))
        for orig, target in reversed(list(zip(self.orig_labels, self.target_labels,
                                              strict=True))):
            out[values == target] = orig
        return out


def _numbers(value: object) -> bool:
    return isinstance(value, list | tuple) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value)


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

    field_args, output_field_args = ("field",), ("label_names",)

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

    field_args = ("fields", "from_field")

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
