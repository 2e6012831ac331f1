"""``WritePng``: a 2D segmentation as a PNG of class numbers, pixel for pixel with the
picture it was computed from (``clara infer`` on PNG, JPEG and TIFF inputs)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from clara_core import TransformContext, Writer
from clara_core.atomic import atomic_path
from clara_core.image.case_files import stem


class WritePng(Writer):
    """Write ``field`` (a 2D label image, one channel) as ``<case><suffix>.png`` under
    ``write_path``: 8-bit class numbers (16-bit above 255), the rows and columns of the
    input picture, so it overlays the picture in any viewer.

    >>> import tempfile, SimpleITK as sitk
    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("model", MedicalImage(np.array([[[0, 1], [2, 0]]]), "CHW",
    ...                                     {"filename": "/in/frame.png"}))
    >>> path, = WritePng(write_path=tempfile.mkdtemp()).write(ctx)
    >>> os.path.basename(path), sitk.GetArrayFromImage(sitk.ReadImage(path)).tolist()
    ('frame_seg.png', [[0, 1], [2, 0]])
    """

    output_args = ("write_path",)
    file_suffixes = (".png",)

    def __init__(self, field: str = "model", write_path: str = "eval",
                 suffix: str = "_seg") -> None:
        self.field, self.write_path, self.suffix = field, write_path, suffix

    @classmethod
    def for_field(cls, field: str, write_path: str, dtype: str | None = None,
                  name_suffix: str | None = None) -> WritePng:
        """Class numbers are written as 8- or 16-bit integers whatever ``dtype`` says."""
        return cls(field=field, write_path=write_path,
                   suffix="_seg" if name_suffix is None else name_suffix)

    def file_name_for(self, case_name: str) -> str:
        return f"{case_name}{self.suffix}.png"

    def write(self, transform_ctx: TransformContext) -> list[str]:
        import SimpleITK as sitk

        image = transform_ctx.get_image(self.field)
        fmt = image.get_shape_format()
        spatial: Sequence[int] = fmt.get_spatial_axes()
        data = np.asarray(image.get_data())
        if len(spatial) != 2 or data.size != int(np.prod([data.shape[a] for a in spatial])):
            raise ValueError(f"WritePng: {self.field!r} is {fmt} of shape {data.shape}; a PNG "
                             "holds one 2D label image (write volumes and several channels "
                             "with WriteNifti).")
        labels = np.rint(np.moveaxis(data, spatial, [0, 1]).reshape(
            data.shape[spatial[0]], data.shape[spatial[1]]))
        dtype = np.uint8 if labels.max(initial=0) < 256 else np.uint16
        name = stem(str(image.get_property("filename") or "case"))
        path = os.path.join(self.write_path, self.file_name_for(name))
        with atomic_path(path) as tmp:
            sitk.WriteImage(sitk.GetImageFromArray(labels.astype(dtype)), tmp, imageIO="PNGImageIO")
        return [path]
