"""Writing NIfTI: ``SaveAsNifti`` (a transform that saves what the chain made, to look
at) and ``WriteNifti`` (the validation writer: predictions on the input's grid)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from clara_core import (
    ClaraError,
    ImageProperty,
    MedicalImage,
    MultiFieldTransformer,
    TransformContext,
    Writer,
)
from clara_core.atomic import atomic_path
from clara_core.image.case_files import stem
from clara_transforms_basic.resampler import resample
from clara_transforms_basic.squeeze import unsqueezed


def _stem(image: MedicalImage, fallback: str) -> str:
    """The image's file name without its image ending (``case_files.stem``)."""
    return stem(str(image.get_property(ImageProperty.FILENAME) or fallback))


def save_nifti(image: MedicalImage, path: str, dtype: str | None = None) -> str:
    """Write ``image`` (spatial axes first, channels last, a single channel dropped) with
    its affine; written to a temporary name and renamed, so readers never see half a file."""
    import nibabel as nib

    data, fmt = image.get_data(), image.get_shape_format()
    spatial = list(fmt.get_spatial_axes())
    other = [a for a in range(data.ndim) if a not in spatial]
    data = np.transpose(data, spatial + other)
    while data.ndim > len(spatial) and data.shape[-1] == 1:
        data = data[..., 0]
    if dtype:
        data = np.rint(data).astype(dtype) if np.dtype(dtype).kind in "iu" else data.astype(dtype)
    affine = image.get_property(ImageProperty.AFFINE)
    affine = np.eye(4) if affine is None or np.shape(affine) != (4, 4) else np.asarray(affine)
    with atomic_path(path) as tmp:  # a unique name: workers may write the same case at once
        nib.save(nib.Nifti1Image(np.ascontiguousarray(data), affine), tmp)
    return path


class SaveAsNifti(MultiFieldTransformer):
    """Save ``fields`` as NIfTI under ``out_dir`` as they are at this point of the chain
    (``<case>_<field>.nii.gz``; several crops get ``_<n>``), to check what a chain
    does; ``interrupt`` stops the run after the first case is saved.

    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.ones((1, 4, 4, 4)), "CDHW", {"filename": "a.nii.gz"}))
    >>> _ = SaveAsNifti("image", out_dir=out).transform(ctx)
    >>> os.listdir(out)
    ['a_image.nii.gz']
    """

    output_args = ("out_dir",)

    def __init__(self, fields: str | Sequence[str], out_dir: str, interrupt: bool = False) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        self.out_dir, self.interrupt = out_dir, interrupt

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        try:
            os.makedirs(self.out_dir, exist_ok=True)
        except OSError as exc:
            raise ClaraError(f"SaveAsNifti: cannot create out_dir {self.out_dir!r} ({exc}); "
                             "set `out_dir` to a folder you can write.") from None
        written = []
        for field in self.fields:
            image = transform_ctx.get_image(field)
            case = _stem(image, "case")
            fmt = image.get_shape_format()
            if fmt.is_batched():
                unbatched = str(fmt)[1:]
                for i, crop in enumerate(image.get_data()):
                    part = MedicalImage(crop, unbatched, image.get_properties())
                    written.append(save_nifti(part, os.path.join(
                        self.out_dir, f"{case}_{field}_{i}.nii.gz")))
            else:
                written.append(save_nifti(image, os.path.join(self.out_dir,
                                                              f"{case}_{field}.nii.gz")))
        if self.interrupt:
            raise ClaraError(f"SaveAsNifti wrote {', '.join(written)} and stopped the run "
                             "(interrupt is true); set it to false to train.")
        return transform_ctx


class WriteNifti(Writer):
    """Write ``field`` of each validated case to ``write_path/<case>_<field>.nii.gz`` as
    ``dtype``, on the grid of the input file: a prediction made on a resampled or
    reoriented image is resampled back (nearest neighbour for integer ``dtype``) to
    the ``original_affine`` and ``original_shape`` the loader recorded, so it overlays
    the input in any viewer.
    """

    output_args = ("write_path",)
    file_suffixes = (".nii.gz",)

    def __init__(self, field: str = "model", write_path: str = "eval",
                 dtype: str | None = None, resample_to_input: bool = True,
                 suffix: str | None = None) -> None:
        self.field, self.write_path, self.dtype = field, write_path, dtype
        self.resample_to_input = resample_to_input
        self.suffix = f"_{field}" if suffix is None else suffix

    def write(self, transform_ctx: TransformContext) -> list[str]:
        image = unsqueezed(transform_ctx.get_image(self.field))
        if self.resample_to_input:
            image = self._on_input_grid(image)
        path = os.path.join(self.write_path, self.file_name(image))
        return [save_nifti(image, path, self.dtype)]

    def file_name(self, image: MedicalImage) -> str:
        """``<input name without extension><suffix>.nii.gz`` (suffix ``_<field>``)."""
        return self.file_name_for(_stem(image, "case"))

    def file_name_for(self, case_name: str) -> str:
        return f"{case_name}{self.suffix}.nii.gz"

    def _on_input_grid(self, image: MedicalImage) -> MedicalImage:
        affine = image.get_property(ImageProperty.AFFINE)
        original = image.get_property(ImageProperty.ORIGINAL_AFFINE)
        shape = image.get_property(ImageProperty.ORIGINAL_SHAPE)
        if affine is None or original is None or shape is None:
            return image
        shape = tuple(int(s) for s in shape)[: len(image.spatial_shape())]
        if image.spatial_shape() == shape and np.allclose(affine, original, atol=1e-4):
            return image
        index_map = np.linalg.inv(np.asarray(affine, float)) @ np.asarray(original, float)
        integer = self.dtype is not None and np.dtype(self.dtype).kind in "iub"
        out = resample(image, index_map, shape, order=0 if integer else 1)
        out.set_property(ImageProperty.AFFINE, np.asarray(original, float))
        return out
