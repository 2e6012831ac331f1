"""``LoadNifti``: NIfTI files through nibabel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import ImageProperty, MedicalImage
from clara_transforms_basic.loaders.base import FileLoader


class LoadNifti(FileLoader):
    """Load the NIfTI file named in each field as a ``DHW`` image (``DHWC`` for 4D files).

    Records file name, original shape, affine and voxel spacing as properties.
    ``as_canonical`` reorients to RAS+ first (nibabel's ``as_closest_canonical``).

    >>> import nibabel as nib, tempfile, os
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.nii.gz")
    >>> nib.save(nib.Nifti1Image(np.ones((4, 5, 6), np.int16), np.diag([2.0, 2, 3, 1])), path)
    >>> img = LoadNifti(["image"]).transform(TransformContext({"image": path})).get_image("image")
    >>> img.get_data().shape, img.get_data().dtype, img.get_property("spacing")
    ((4, 5, 6), dtype('float32'), (2.0, 2.0, 3.0))
    """

    def __init__(self, fields: str | Sequence[str], dtype: str = "float32",
                 as_canonical: bool = False) -> None:
        FileLoader.__init__(self, fields, dtype)
        self.as_canonical = as_canonical

    def load(self, file_name: str) -> MedicalImage:
        import nibabel as nib

        try:
            nii = nib.load(file_name)
            file_affine, file_shape = np.asarray(nii.affine, dtype=np.float64), nii.shape
            if self.as_canonical:
                nii = nib.as_closest_canonical(nii)
            data = np.asarray(nii.dataobj, dtype=self._dtype)
        except FileNotFoundError:
            raise FileNotFoundError(f"LoadNifti: file not found: {file_name}") from None
        except Exception as exc:
            raise ValueError(f"LoadNifti: cannot read {file_name} as NIfTI: {exc}") from exc
        if data.ndim not in (3, 4):
            raise ValueError(f"LoadNifti: {file_name} has {data.ndim} dimensions {data.shape}; "
                             "expected a 3D volume or a 4D multi-channel volume.")
        image = MedicalImage(data, "DHW" if data.ndim == 3 else "DHWC")
        image.set_property(ImageProperty.FILENAME, file_name)
        image.set_property(ImageProperty.ORIGINAL_SHAPE, tuple(file_shape))
        image.set_property(ImageProperty.ORIGINAL_AFFINE, file_affine)
        image.set_property(ImageProperty.AFFINE, np.asarray(nii.affine, dtype=np.float64))
        image.set_property(ImageProperty.SPACING,
                           tuple(float(z) for z in nii.header.get_zooms()[:3]))
        image.set_property(ImageProperty.AS_CANONICAL, self.as_canonical)
        return image
