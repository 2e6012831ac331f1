"""SimpleITK loaders: ``LoadImage`` (mha, mhd, nrrd, nii, ...), ``LoadDicomSeries`` (a
folder of slices), ``LoadPng`` and ``LoadJpg`` (2D)."""

from __future__ import annotations

import contextlib
import locale
import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from clara_core import ImageProperty, MedicalImage
from clara_transforms_basic.loaders.base import FileLoader

# SimpleITK's physical space is LPS; NIfTI affines (and LoadNifti's) are RAS.
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


@contextlib.contextmanager
def kept_locale() -> Iterator[None]:
    """Run ITK with the process's locale put back afterwards: GDCM (DICOM) sets
    ``LC_CTYPE`` to "C", after which Python opens text files as ASCII."""
    saved = locale.setlocale(locale.LC_CTYPE)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, saved)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else "unknown error"


def read_itk(owner: str, file_name: str) -> Any:
    """``sitk.ReadImage`` with errors that name the loader and the file."""
    import SimpleITK as sitk

    if not os.path.exists(file_name):
        raise FileNotFoundError(f"{owner}: file not found: {file_name}")
    try:
        with kept_locale():
            return sitk.ReadImage(file_name)
    except RuntimeError as exc:
        raise ValueError(f"{owner}: SimpleITK cannot read {file_name}: "
                         f"{_first_line(exc)}") from exc


def volume_from_sitk(itk: Any, file_name: str, dtype: np.dtype) -> MedicalImage:
    """A 3D SimpleITK image as a ``DHW``/``DHWC`` MedicalImage with LoadNifti's axis order
    (array indexed (i, j, k)), per-axis ``spacing`` and a RAS ``affine``; a 2D image as
    ``HW``/``HWC`` (indexed (i, j)) with its geometry in a 4x4 affine, as LoadNifti
    keeps a 2D file's."""
    import SimpleITK as sitk

    dims = itk.GetDimension()
    if dims not in (2, 3):
        raise ValueError(f"{file_name} is {dims}D; expected a 2D image or a 3D volume.")
    array = sitk.GetArrayViewFromImage(itk)  # (k, j, i[, components])
    channels = itk.GetNumberOfComponentsPerPixel() > 1
    axes = tuple(reversed(range(dims))) + ((dims,) if channels else ())
    data = np.ascontiguousarray(np.transpose(array, axes), dtype=dtype)
    spacing = np.array(itk.GetSpacing(), dtype=np.float64)
    direction = np.array(itk.GetDirection(), dtype=np.float64).reshape(dims, dims)
    lps = np.eye(4)
    lps[:dims, :dims] = direction * spacing
    lps[:dims, 3] = itk.GetOrigin()
    fmt = "DHW" if dims == 3 else "HW"
    image = MedicalImage(data, fmt + "C" if channels else fmt)
    image.set_property(ImageProperty.FILENAME, file_name)
    image.set_property(ImageProperty.ORIGINAL_SHAPE, data.shape)
    image.set_property(ImageProperty.SPACING, tuple(float(s) for s in spacing))
    image.set_property(ImageProperty.AFFINE, _LPS_TO_RAS @ lps)
    image.set_property(ImageProperty.ORIGINAL_AFFINE, _LPS_TO_RAS @ lps)
    image.set_property(ImageProperty.ORIGIN, tuple(itk.GetOrigin()))
    image.set_property(ImageProperty.DIRECTION, tuple(itk.GetDirection()))
    return image


class LoadImage(FileLoader):
    """Load each field's file through SimpleITK as a ``DHW`` image (``DHWC`` with
    components; ``HW``/``HWC`` for a 2D file), with the same axis order and geometry as :class:`LoadNifti`: the
    array is indexed (i, j, k) like nibabel's, ``spacing`` is per array axis and
    ``affine`` maps voxel indices to RAS millimetres; ``origin`` and ``direction``
    are SimpleITK's own (LPS).

    >>> import nibabel as nib, tempfile
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.nii.gz")
    >>> nib.save(nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    ...                          np.diag([2.0, 2, 3, 1])), path)
    >>> img = LoadImage(["image"]).transform(TransformContext({"image": path})).get_image("image")
    >>> img.get_data().shape, img.get_property("spacing"), int(img.get_data()[1, 2, 3])
    ((2, 3, 4), (2.0, 2.0, 3.0), 23)
    """

    #: the formats ``clara infer`` reads with it (NIfTI goes to LoadNifti, 2D to
    #: LoadPng/LoadJpg), though SimpleITK reads more
    file_suffixes = (".mha", ".mhd", ".nrrd", ".nhdr", ".gipl", ".gipl.gz", ".vtk")

    def load(self, file_name: str) -> MedicalImage:
        itk = read_itk("LoadImage", file_name)
        try:
            return volume_from_sitk(itk, file_name, self._dtype)
        except ValueError as exc:
            raise ValueError(f"{type(self).__name__}: {exc}") from None


#: DICOM tags of a slice's position and orientation (Image Position / Orientation Patient)
POSITION, ORIENTATION = "0020|0032", "0020|0037"


def check_slice_spacing(owner: str, folder: str,
                        slices: Sequence[tuple[str, str] | None]) -> None:
    r"""Raise when the slices (position and orientation tags, in the reader's order) are
    not evenly spaced along their normal: a missing slice would stretch the volume.

    >>> row = "1\\0\\0\\0\\1\\0"
    >>> check_slice_spacing("L", "s", [(f"0\\0\\{z}", row) for z in (0, 2, 4, 6)])
    >>> check_slice_spacing("L", "s", [(f"0\\0\\{z}", row) for z in (0, 2, 6, 8)])
    Traceback (most recent call last):
    ...
    ValueError: L: the DICOM series in s is not evenly spaced: slices 2 and 3 of 4 are 4 mm apart where the others are 2 mm (a missing slice?). Complete the series, or give it as one volume file (e.g. NIfTI) on the grid you mean.
    """
    if len(slices) < 3 or any(s is None for s in slices):
        return
    try:
        positions = np.array([[float(v) for v in s[0].split("\\")] for s in slices if s])
        cosines = [float(v) for v in slices[0][1].split("\\")]  # type: ignore[index]
    except ValueError:
        return  # tags that are not numbers: nothing to check against
    normal = np.cross(cosines[:3], cosines[3:6])
    gaps = np.abs(np.diff(positions @ normal))
    typical = float(np.median(gaps))
    odd = np.flatnonzero(np.abs(gaps - typical) > max(0.05 * typical, 1e-3))
    if typical > 0 and odd.size:
        k = int(odd[0])
        raise ValueError(f"{owner}: the DICOM series in {folder} is not evenly spaced: slices "
                         f"{k + 1} and {k + 2} of {len(slices)} are {gaps[k]:.3g} mm apart "
                         f"where the others are {typical:.3g} mm (a missing slice?). Complete "
                         "the series, or give it as one volume file (e.g. NIfTI) on the grid "
                         "you mean.")


class LoadDicomSeries(FileLoader):
    """Load the DICOM series in each field's folder as one ``DHW`` volume, slices sorted
    by position (GDCM through SimpleITK), with spacing, RAS affine and the series UID.

    A folder with several series needs ``series_uid``; one without DICOM files is an
    error that names it.
    """

    reads_folders = True

    def __init__(self, fields: str | Sequence[str], dtype: str = "float32",
                 series_uid: str | None = None) -> None:
        FileLoader.__init__(self, fields=fields, dtype=dtype)
        self.series_uid = series_uid

    def load(self, file_name: str) -> MedicalImage:
        import SimpleITK as sitk

        if not os.path.isdir(file_name):
            raise FileNotFoundError(f"LoadDicomSeries: {file_name} is not a folder; give the "
                                    "folder that holds the series' slices.")
        reader = sitk.ImageSeriesReader()
        try:
            with kept_locale():
                series = list(reader.GetGDCMSeriesIDs(file_name))
        except RuntimeError as exc:  # GDCM stops at a file it cannot parse
            raise ValueError(f"{type(self).__name__}: cannot list the DICOM series in "
                             f"{file_name}: {_first_line(exc)}; give a folder holding one "
                             "series' slices") from exc
        if not series:
            raise ValueError(f"{type(self).__name__}: no DICOM series in {file_name} (no readable "
                             "DICOM slices there).")
        uid = self.series_uid
        if uid is None and len(series) > 1:
            raise ValueError(f"{type(self).__name__}: {file_name} holds {len(series)} series "
                             f"({', '.join(series)}); choose one with `series_uid`.")
        if uid is not None and uid not in series:
            raise ValueError(f"{type(self).__name__}: series {uid} is not in {file_name}; it holds "
                             f"{', '.join(series)}.")
        try:
            with kept_locale():
                files = reader.GetGDCMSeriesFileNames(file_name, uid or series[0])
                if len(files) == 1:  # one file, perhaps multi-frame: read as it is
                    itk = sitk.ReadImage(files[0])
                else:
                    reader.SetFileNames(files)
                    reader.MetaDataDictionaryArrayUpdateOn()
                    itk = reader.Execute()
                    check_slice_spacing(type(self).__name__, file_name, [
                        (reader.GetMetaData(i, POSITION), reader.GetMetaData(i, ORIENTATION))
                        if reader.HasMetaDataKey(i, POSITION) and
                        reader.HasMetaDataKey(i, ORIENTATION) else None
                        for i in range(len(files))])
        except RuntimeError as exc:
            raise ValueError(f"{type(self).__name__}: cannot read the series in {file_name}: "
                             f"{_first_line(exc)}") from exc
        image = volume_from_sitk(itk, file_name, self._dtype)
        image.set_property("series_uid", uid or series[0])
        image.set_property("num_slices", len(files))
        return image


class _Load2D(FileLoader):
    """A 2D file through SimpleITK: ``HW`` for grey images, ``HWC`` for colour; its
    segmentation is written as a PNG of the same rows and columns."""

    result_suffix = ".png"

    def load(self, file_name: str) -> MedicalImage:
        import SimpleITK as sitk

        name = type(self).__name__
        if os.path.exists(file_name) and not file_name.lower().endswith(self.file_suffixes):
            raise ValueError(f"{name}: {file_name} is not a {'/'.join(self.file_suffixes)} "
                             "file.")
        itk = read_itk(name, file_name)
        data = np.asarray(sitk.GetArrayFromImage(itk), dtype=self._dtype)  # rows, cols[, c]
        if data.ndim not in (2, 3) or itk.GetDimension() != 2:
            raise ValueError(f"{name}: {file_name} has shape {data.shape}; expected a 2D image.")
        image = MedicalImage(data, "HW" if data.ndim == 2 else "HWC")
        image.set_property(ImageProperty.FILENAME, file_name)
        image.set_property(ImageProperty.ORIGINAL_SHAPE, data.shape)
        image.set_property(ImageProperty.SPACING, tuple(float(s) for s in itk.GetSpacing()[::-1]))
        return image


class LoadPng(_Load2D):
    """Load PNG files as ``HW`` (grey) or ``HWC`` (colour) images.

    >>> import SimpleITK as sitk, tempfile
    >>> from clara_core import TransformContext
    >>> path = os.path.join(tempfile.mkdtemp(), "a.png")
    >>> sitk.WriteImage(sitk.GetImageFromArray(np.arange(6, dtype=np.uint8).reshape(2, 3)), path)
    >>> LoadPng("image").transform(TransformContext({"image": path})).get_image("image").get_data()
    array([[0., 1., 2.],
           [3., 4., 5.]], dtype=float32)
    """

    file_suffixes = (".png",)


class LoadJpg(_Load2D):
    """Load JPEG files as ``HW`` (grey) or ``HWC`` (colour) images."""

    file_suffixes = (".jpg", ".jpeg")


class LoadTiff(_Load2D):
    """Load 2D TIFF (and BMP) files as ``HW`` (grey) or ``HWC`` (colour) images: the
    pictures of retina, histology-tile and microscopy sets (a multi-page TIFF is
    refused: it is not one 2D image)."""

    file_suffixes = (".tif", ".tiff", ".bmp")
