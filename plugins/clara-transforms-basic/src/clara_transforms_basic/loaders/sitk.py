"""``LoadImage``: any format SimpleITK reads (mha, mhd, nrrd, nii, ...)."""

from __future__ import annotations

import numpy as np

from clara_core import ImageProperty, MedicalImage
from clara_transforms_basic.loaders.base import FileLoader

# SimpleITK's physical space is LPS; NIfTI affines (and LoadNifti's) are RAS.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


class LoadImage(FileLoader):
    """Load each field's file through SimpleITK as a ``DHW`` image (``DHWC`` with
    components), with the same axis order and geometry as :class:`LoadNifti`: the
    array is indexed (i, j, k) like nibabel's, ``spacing`` is per array axis and
    ``affine`` maps voxel indices to RAS millimetres; ``origin`` and ``direction``
    are SimpleITK's own (LPS).

    >>> import nibabel as nib, tempfile, os
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.nii.gz")
    >>> nib.save(nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    ...                          np.diag([2.0, 2, 3, 1])), path)
    >>> img = LoadImage(["image"]).transform(TransformContext({"image": path})).get_image("image")
    >>> img.get_data().shape, img.get_property("spacing"), int(img.get_data()[1, 2, 3])
    ((2, 3, 4), (2.0, 2.0, 3.0), 23)
    """

    def load(self, file_name: str) -> MedicalImage:
        import os

        import SimpleITK as sitk

        if not os.path.exists(file_name):
            raise FileNotFoundError(f"LoadImage: file not found: {file_name}")
        try:
            itk = sitk.ReadImage(file_name)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unknown error"
            raise ValueError(f"LoadImage: SimpleITK cannot read {file_name}: {first}") from exc
        if itk.GetDimension() != 3:
            raise ValueError(f"LoadImage: {file_name} is {itk.GetDimension()}D; expected a 3D "
                             "volume (use a 2D loader for slices).")
        array = sitk.GetArrayViewFromImage(itk)  # (k, j, i[, components])
        channels = itk.GetNumberOfComponentsPerPixel() > 1
        axes = (2, 1, 0, 3) if channels else (2, 1, 0)
        data = np.ascontiguousarray(np.transpose(array, axes), dtype=self._dtype)
        spacing = np.array(itk.GetSpacing(), dtype=np.float64)
        direction = np.array(itk.GetDirection(), dtype=np.float64).reshape(3, 3)
        lps = np.eye(4)
        lps[:3, :3] = direction * spacing
        lps[:3, 3] = itk.GetOrigin()
        image = MedicalImage(data, "DHWC" if channels else "DHW")
        image.set_property(ImageProperty.FILENAME, file_name)
        image.set_property(ImageProperty.ORIGINAL_SHAPE, data.shape)
        image.set_property(ImageProperty.SPACING, tuple(float(s) for s in spacing))
        image.set_property(ImageProperty.AFFINE, _LPS_TO_RAS @ lps)
        image.set_property(ImageProperty.ORIGIN, tuple(itk.GetOrigin()))
        image.set_property(ImageProperty.DIRECTION, tuple(itk.GetDirection()))
        return image
