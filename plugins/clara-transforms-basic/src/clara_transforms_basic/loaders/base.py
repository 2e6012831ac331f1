"""``FileLoader``: the part every loader shares: a dtype argument, and a field's file
name in, a MedicalImage out. A field may also list several files, one per channel
(nnU-Net v2's ``<case>_0000``, ``<case>_0001``, ...; MONAI's list of files): they are
loaded and stacked, in list order, as the channels of one image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core import ImageProperty, MedicalImage, MultiFieldTransformer, TransformContext

#: channel files of one case are on one grid when spacings and affines agree this closely
#: (header round-off is ~1e-5; a real difference is tenths of a millimetre)
GRID_RTOL, GRID_ATOL = 1e-4, 1e-3


def file_names(value: Any) -> list[Any]:
    """The file names a field holds: one name, or a list/tuple (or NumPy array, as
    tf.data hands them over) of names; bytes are decoded.

    >>> file_names("a.nii"), file_names([b"a.nii", "b.nii"]), file_names(np.array(["a", "b"]))
    (['a.nii'], ['a.nii', 'b.nii'], ['a', 'b'])
    """
    if isinstance(value, np.ndarray) and value.dtype.kind in "SUO":
        value = value.ravel().tolist()
    names = list(value) if isinstance(value, list | tuple) else [value]
    return [n.decode("utf-8") if isinstance(n, bytes) else n for n in names]


class FileLoader(MultiFieldTransformer):
    """Replace each field's file name by ``self.load(file_name)``; subclasses load. A
    field that lists several files becomes one image of their channels (see
    :meth:`load_channels`)."""

    is_loader = True

    def __init__(self, fields: str | Sequence[str], dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        try:
            self._dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"Invalid value for argument `dtype` of {type(self).__name__}: "
                             "expected a NumPy dtype name such as 'float32', received "
                             f"{dtype!r}.") from None
        self.dtype = dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            names = file_names(transform_ctx[field])
            if not names:
                raise ValueError(f"{type(self).__name__}: field {field!r} lists no files; "
                                 "give a file name, or one file per channel.")
            image = self.load(names[0]) if len(names) == 1 else self.load_channels(names)
            transform_ctx.set_image(field, image)
        return transform_ctx

    def load(self, file_name: str) -> MedicalImage:
        raise NotImplementedError(f"{type(self).__name__} does not implement load().")

    def load_channels(self, file_names: Sequence[str]) -> MedicalImage:
        """The files, one per channel, as one image: the same array and layout a file
        holding them as channels gives (``DHW`` files become ``DHWC``; files that have
        channels already are joined along that axis), with the first file's
        properties. Files on different grids (spatial shape, spacing or affine) are
        refused, naming both."""
        images = [self.load(name) for name in file_names]
        first, fmt = images[0], images[0].get_shape_format()
        for name, image in zip(file_names[1:], images[1:], strict=True):
            self._check_grid(file_names[0], first, name, image)
        axis = fmt.get_channel_axis()
        arrays = [image.get_data() for image in images]
        if axis is None:
            data, out_fmt = np.stack(arrays, axis=-1), fmt.with_channels(channels_first=False)
        else:
            data, out_fmt = np.concatenate(arrays, axis=axis), fmt
        out = MedicalImage(data, out_fmt, first.get_properties())
        shape = first.get_property(ImageProperty.ORIGINAL_SHAPE)
        if shape is not None:
            shape = tuple(int(s) for s in shape)
            if axis is None:
                out.set_property(ImageProperty.ORIGINAL_SHAPE, (*shape, len(images)))
            elif len(shape) == data.ndim:
                out.set_property(ImageProperty.ORIGINAL_SHAPE,
                                 shape[:axis] + (int(data.shape[axis]),) + shape[axis + 1:])
        return out

    def _check_grid(self, first_name: str, first: MedicalImage, name: str,
                    image: MedicalImage) -> None:
        owner = type(self).__name__
        fix = ("the channel files of a case must share one grid: resample them onto the "
               "first channel's")
        a, b = first.get_shape_format(), image.get_shape_format()
        if a != b or first.spatial_shape() != image.spatial_shape():
            raise ValueError(f"{owner}: {name} ({b}, shape {image.get_data().shape}) is not on "
                             f"the grid of {first_name} ({a}, shape {first.get_data().shape}); "
                             f"{fix}.")
        for key in (ImageProperty.SPACING, ImageProperty.AFFINE):
            x, y = first.get_property(key), image.get_property(key)
            if x is None or y is None:
                continue
            x, y = np.asarray(x, float), np.asarray(y, float)
            if x.shape != y.shape or not np.allclose(x, y, rtol=GRID_RTOL, atol=GRID_ATOL):
                raise ValueError(f"{owner}: {name} has {key} {np.round(y, 4).tolist()} but "
                                 f"{first_name} has {np.round(x, 4).tolist()} (both of spatial "
                                 f"shape {first.spatial_shape()}); {fix}.")
