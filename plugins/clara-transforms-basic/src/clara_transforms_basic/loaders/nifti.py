"""``LoadNifti``: NIfTI files through nibabel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core import ImageProperty, MedicalImage
from clara_transforms_basic.loaders.base import FileLoader


def _inflater() -> Any:
    """ISA-L's inflate (python-isal: twice zlib's speed on CT volumes) where installed,
    else zlib; both release the GIL while they work."""
    try:
        from isal import isal_zlib

        return isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
        import zlib

        return zlib


def _open(file_name: str) -> Any:
    """``nib.load``, except that a ``.nii.gz`` is decompressed by one inflate call per
    gzip member, which releases the GIL for the whole file: with the pipeline's
    threads, gzip's chunked reads held it often enough to halve the parallel
    speed-up (``benchmarks/pipeline_vs_monai.py`` cache build)."""
    import nibabel as nib

    zlib = _inflater()

    if not file_name.endswith(".gz"):
        return nib.load(file_name)
    with open(file_name, "rb") as f:
        compressed = f.read()
    parts = []
    while compressed:
        inflater = zlib.decompressobj(wbits=31)
        parts.append(inflater.decompress(compressed))
        if not inflater.eof:
            raise ValueError("the gzip stream is truncated (the file was cut short)")
        compressed = inflater.unused_data
    raw = b"".join(parts) if len(parts) > 1 else parts[0]
    size = {int.from_bytes(raw[:4], "little"), int.from_bytes(raw[:4], "big")}
    image_class = nib.Nifti2Image if 540 in size else nib.Nifti1Image  # sizeof_hdr
    return image_class.from_bytes(raw)


def _read(nii: Any, dtype: np.dtype) -> np.ndarray:
    """The voxels as a C-ordered ``dtype`` array in one pass: the stored values are cast
    and reordered together (NIfTI is Fortran-ordered on disk; crops and the cache want
    C order), then the header's scaling is applied in place."""
    proxy = nii.dataobj
    if not hasattr(proxy, "get_unscaled"):  # an image built in memory
        return np.ascontiguousarray(proxy, dtype=dtype)
    raw = np.asanyarray(proxy.get_unscaled())
    slope, inter = float(proxy.slope), float(proxy.inter)
    if np.dtype(dtype).kind != "f" and (slope != 1.0 or inter != 0.0):
        return np.ascontiguousarray(np.asarray(proxy), dtype=dtype)  # exact integer scaling
    data = np.empty(raw.shape, dtype=dtype)
    data[...] = raw
    if slope != 1.0:
        data *= slope
    if inter != 0.0:
        data += inter
    return data


#: the image layout of a NIfTI file's data by its number of dimensions (a 2D file is a
#: 2D image: what SimpleITK and other tools write for a slice or a radiograph)
FORMATS = {2: "HW", 3: "DHW", 4: "DHWC"}


class LoadNifti(FileLoader):
    """Load the NIfTI file named in each field as a ``DHW`` image (``DHWC`` for 4D files,
    ``HW`` for 2D files; the 4x4 affine is kept, so results are written on its grid).

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

    file_suffixes = (".nii", ".nii.gz")

    def __init__(self, fields: str | Sequence[str], dtype: str = "float32",
                 as_canonical: bool = False) -> None:
        FileLoader.__init__(self, fields=fields, dtype=dtype)
        self.as_canonical = as_canonical

    def load(self, file_name: str) -> MedicalImage:
        import nibabel as nib

        try:
            nii = _open(file_name)
            file_affine, file_shape = np.asarray(nii.affine, dtype=np.float64), nii.shape
            if self.as_canonical:
                nii = nib.as_closest_canonical(nii)
            data = _read(nii, self._dtype)
        except FileNotFoundError:
            raise FileNotFoundError(f"LoadNifti: file not found: {file_name}") from None
        except Exception as exc:
            raise ValueError(f"{type(self).__name__}: cannot read {file_name} as NIfTI: {exc}") from exc
        if data.ndim not in FORMATS:
            raise ValueError(f"{type(self).__name__}: {file_name} has {data.ndim} dimensions "
                             f"{data.shape}; expected a 2D image, a 3D volume or a 4D "
                             "multi-channel volume.")
        image = MedicalImage(data, FORMATS[data.ndim])
        image.set_property(ImageProperty.FILENAME, file_name)
        image.set_property(ImageProperty.ORIGINAL_SHAPE, tuple(file_shape))
        image.set_property(ImageProperty.ORIGINAL_AFFINE, file_affine)
        image.set_property(ImageProperty.AFFINE, np.asarray(nii.affine, dtype=np.float64))
        spatial = min(data.ndim, 3)
        image.set_property(ImageProperty.SPACING,
                           tuple(float(z) for z in nii.header.get_zooms()[:spatial]))
        image.set_property(ImageProperty.AS_CANONICAL, self.as_canonical)
        return image
