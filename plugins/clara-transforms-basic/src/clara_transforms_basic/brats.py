"""``ConvertToMultiChannelBasedOnBratsClasses``: a BraTS label map to TC/WT/ET channels.

The SDK documents the conversion as ``BratsLabelToMultiChannelConverter(class_names,
dtype)`` in ``ai4med.libs.transforms``: one channel per class named, after the BraTS
classes of "3D MRI brain tumor segmentation using autoencoder regularization". With
the BraTS label values (1 necrotic and non-enhancing tumour core, 2 oedema, 4
enhancing tumour; BraTS 2023 and later number the enhancing tumour 3, and either
number is read as it) the channels overlap:

- ``TC`` (tumour core): label 1 or the enhancing tumour;
- ``WT`` (whole tumour): label 1, 2 or the enhancing tumour (the SDK's page also
  spells it ``WC``);
- ``ET`` (enhancing tumour): label 4 (or 3).

A network trained on them has one sigmoid output per channel (``final_activation``
``"sigmoid"``), a Dice loss with ``is_onehot_targets`` and metrics that read each
channel on its own (no argmax).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MultiFieldTransformer, TransformContext
from clara_core.arguments import check_argument

#: the BraTS label values that make up each class
BRATS_CLASSES: dict[str, tuple[int, ...]] = {
    "TC": (1, 3, 4), "WT": (1, 2, 3, 4), "WC": (1, 2, 3, 4), "ET": (3, 4)}


def brats_channels(labels: np.ndarray, class_names: Sequence[str]) -> np.ndarray:
    """One boolean channel per class name, stacked first, from a label map.

    >>> brats_channels(np.array([0, 1, 2, 4, 3]), ["TC", "WT", "ET"]).astype(int).tolist()
    [[0, 1, 0, 1, 1], [0, 1, 1, 1, 1], [0, 0, 0, 1, 1]]
    """
    return np.stack([np.isin(labels, BRATS_CLASSES[name]) for name in class_names])


class ConvertToMultiChannelBasedOnBratsClasses(MultiFieldTransformer):
    """A one-channel BraTS label map (labels 1, 2, 4; or 3 for the enhancing tumour) to one channel per class in
    ``class_names`` (``TC``, ``WT``, ``ET``; see the module docstring), channels first.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("label", MedicalImage(np.array([[[0, 1, 2, 4]]], "uint8"), "CHW"))
    >>> out = ConvertToMultiChannelBasedOnBratsClasses("label").transform(ctx)
    >>> out.get_image("label").get_data()[:, 0].tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]]
    """

    def __init__(self, fields: str | Sequence[str] = "label",
                 class_names: Sequence[str] = ("TC", "WT", "ET"),
                 dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        names = [class_names] if isinstance(class_names, str) else list(class_names)
        check_argument(type(self).__name__, "class_names", class_names,
                       bool(names) and all(n in BRATS_CLASSES for n in names),
                       'a list of BraTS classes among "TC", "WT", "ET"')
        check_argument(type(self).__name__, "dtype", dtype, _is_dtype(dtype),
                       'a NumPy data type such as "float32" or "uint8"')
        self.class_names, self.dtype = names, dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            image = transform_ctx.get_image(field)
            fmt = image.get_shape_format()
            data = image.get_data()
            if fmt.is_batched() or (fmt.has_channels() and not fmt.is_channels_first()):
                raise ValueError(f"{type(self).__name__}: field {field!r} is {fmt}; expected a "
                                 "label map (DHW) or channels first (CDHW): put "
                                 "ConvertToChannelsFirst before it.")
            if fmt.has_channels():
                if data.shape[0] != 1:
                    raise ValueError(f"{type(self).__name__}: field {field!r} has "
                                     f"{data.shape[0]} channels; expected one channel of BraTS "
                                     "label values (1, 2 and 4, or 3 for the enhancing tumour).")
                data = data[0]
            out = brats_channels(np.rint(data), self.class_names).astype(self.dtype)
            transform_ctx.set_image(field, image.new_image(out, fmt.with_channels(True)))
        return transform_ctx


def _is_dtype(value: object) -> bool:
    try:
        np.dtype(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return isinstance(value, str)


__all__ = ["BRATS_CLASSES", "ConvertToMultiChannelBasedOnBratsClasses", "brats_channels"]
