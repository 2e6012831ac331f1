"""Geometry shared by the spatial transforms: index maps and affines.

Every spatial transform is described by an *index map* ``A``: a homogeneous
``(n+1) x (n+1)`` matrix taking a voxel index of the output to the voxel index of
the input it samples (``n`` spatial axes). Resampling through it is the business of
:mod:`clara_transforms_basic.resampler` (which engine) and
:mod:`clara_transforms_basic.lazy` (now or on first use); the output's affine is the
input's affine times ``A`` (:func:`moved_properties`), so a crop, flip, rotation or
zoom keeps the image in the same place in the scanner's space.

>>> import numpy as np
>>> A = translation([2, 0, 1])              # a crop starting at voxel (2, 0, 1)
>>> (A @ [0, 0, 0, 1])[:3].tolist()
[2.0, 0.0, 1.0]
>>> np.diag(scaling([4, 4], [2, 2]))[:2].tolist()   # 4 voxels -> 2: each new voxel spans 2
[2.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core import ImageProperty, MedicalImage, ShapeFormat


def translation(start: Sequence[float] | np.ndarray) -> np.ndarray:
    """Output index ``i`` samples input index ``i + start``."""
    n = len(start)
    out = np.eye(n + 1)
    out[:n, n] = start
    return out


def scaling(old_shape: Sequence[int], new_shape: Sequence[int]) -> np.ndarray:
    """Resize ``old_shape`` to ``new_shape`` with voxel edges aligned (the field of view kept)."""
    n = len(old_shape)
    f = np.asarray(old_shape, float) / np.asarray(new_shape, float)
    out = np.eye(n + 1)
    out[:n, :n] = np.diag(f)
    out[:n, n] = (f - 1.0) / 2.0
    return out


def about_center(shape: Sequence[int], linear: np.ndarray) -> np.ndarray:
    """The map ``linear`` (``n x n``, output -> input) applied about the volume's centre."""
    n = len(shape)
    c = (np.asarray(shape, float) - 1.0) / 2.0
    out = np.eye(n + 1)
    out[:n, :n] = linear
    out[:n, n] = c - linear @ c
    return out


def flip(shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Reverse the spatial ``axes``: index ``i`` samples ``shape - 1 - i``."""
    n = len(shape)
    out = np.eye(n + 1)
    for a in axes:
        out[a, a] = -1.0
        out[a, n] = shape[a] - 1
    return out


def rotation(angles: Sequence[float]) -> np.ndarray:
    """A rotation matrix from one angle (2D) or three angles about axes 0, 1, 2 (3D), radians."""
    if len(angles) == 1:
        c, s = np.cos(angles[0]), np.sin(angles[0])
        return np.array([[c, -s], [s, c]])
    out = np.eye(3)
    for axis, angle in enumerate(angles):
        c, s = np.cos(angle), np.sin(angle)
        i, j = [k for k in range(3) if k != axis]
        r = np.eye(3)
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        out = out @ r
    return out


def with_index_map(image: MedicalImage, data: np.ndarray, fmt: ShapeFormat | str,
                   index_map: np.ndarray) -> MedicalImage:
    """A new image with ``data`` whose affine (and spacing) is ``image``'s moved by ``index_map``."""
    return MedicalImage(data, fmt, moved_properties(image.get_properties(), index_map))


def moved_properties(properties: dict[str, Any], index_map: np.ndarray | None) -> dict[str, Any]:
    """``properties`` with the affine (and spacing) moved by ``index_map``; None for
    stacked crops, which differ in geometry and so keep no affine."""
    props = dict(properties)
    if index_map is None:
        props[ImageProperty.AFFINE] = None
        return props
    n = index_map.shape[0] - 1
    affine = props.get(ImageProperty.AFFINE)
    if affine is None:  # no affine: axis-aligned voxels of the recorded spacing
        spacing = props.get(ImageProperty.SPACING)
        if spacing is not None and len(spacing) >= n:
            scaled = np.diag(np.asarray(spacing[:n], float)) @ index_map[:n, :n]
            props[ImageProperty.SPACING] = tuple(float(s) for s in np.linalg.norm(scaled, axis=0))
        return props
    affine = np.asarray(affine, float)
    full = np.eye(affine.shape[0])  # embed a 2D map in a 3D affine
    m = min(n, affine.shape[0] - 1)
    full[:m, :m] = index_map[:m, :m]
    full[:m, -1] = index_map[:m, n]
    new = affine @ full
    props[ImageProperty.AFFINE] = new
    props[ImageProperty.SPACING] = tuple(float(s) for s in np.linalg.norm(new[:-1, :-1], axis=0))
    return props


def crop_or_pad(image: MedicalImage, start: Sequence[int], size: Sequence[int],
                value: float = 0.0) -> MedicalImage:
    """The box ``[start, start + size)`` of ``image``'s spatial axes; parts outside the
    image (negative starts, ends past the border) are padded with ``value``. A box
    inside the image is a view, not a copy."""
    data, fmt = image.get_data(), image.get_shape_format()
    spatial = fmt.get_spatial_axes()
    dims = [data.shape[a] for a in spatial]
    lo = [max(0, int(s)) for s in start]
    hi = [min(d, int(s) + int(z)) for s, z, d in zip(start, size, dims, strict=True)]
    index: list[slice] = [slice(None)] * data.ndim
    for a, l0, h0 in zip(spatial, lo, hi, strict=True):
        index[a] = slice(l0, max(l0, h0))
    out = data[tuple(index)]
    pad = [(0, 0)] * data.ndim
    for a, s, z, l0, h0 in zip(spatial, start, size, lo, hi, strict=True):
        pad[a] = (l0 - int(s), int(s) + int(z) - max(l0, h0))
    if any(p != (0, 0) for p in pad):
        out = np.pad(out, pad, constant_values=value)
    return with_index_map(image, out, fmt, translation([float(s) for s in start]))


__all__ = ["about_center", "crop_or_pad", "flip", "rotation", "scaling",
           "moved_properties", "translation", "with_index_map"]
