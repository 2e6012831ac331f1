"""One resampling pass through an index map: the engine of every spatial transform.

``resample_into(src, index_map, out, order)`` is the one entry point: it fills
``out`` (``C x *shape``) with ``src`` (``C x *source_shape``) sampled at
``index_map @ [i, 1]`` for every output index ``i``: linearly (``order=1``) or at
the nearest voxel (``order=0``); points outside the source's extent (``0..size-1``
on each axis) take ``cval``, as in :func:`scipy.ndimage.affine_transform` with
``mode="constant"``, whose results these equal. Coordinates are computed on the
fly, never stored; an optional dense ``displacement`` (``n x *shape``, in the
coordinates the map is applied to) adds an elastic deformation.
:func:`resample_axes` applies it to an array of any :class:`~clara_core.ShapeFormat`
(the lazy transforms' resampling), :func:`resample` to an image now (the
regridding transforms); ``engine="scipy"`` runs SciPy's ``affine_transform``
itself, whose border rule and integer rounding the regridding transforms keep.

Why a kernel of our own: on a 64^3 crop of a 160x160x96 volume, SciPy's
``affine_transform`` takes 13-16 ms per linear field, SimpleITK's resampler 6 ms
while holding the GIL (two worker threads get no speed-up) and a TensorFlow
gather graph 14 ms; these Numba kernels take 2 ms (linear) and 1.3 ms (nearest)
and release the GIL, so the pipeline's worker threads run them side by side.
Maps that only shift, flip or permute axes (crops, flips) are copied by slicing.

>>> import numpy as np
>>> from clara_transforms_basic.geometry import translation
>>> src = np.arange(16.0).reshape(1, 4, 4)
>>> out = np.empty((1, 2, 2))
>>> resample_into(src, translation([1.5, 1.0]), out, order=1)
>>> out[0].tolist()      # rows 1.5 and 2.5: the mean of neighbouring rows
[[7.0, 8.0], [11.0, 12.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import numpy as np

from clara_core import MedicalImage, ShapeFormat
from clara_transforms_basic.geometry import with_index_map


def integral_layout(index_map: np.ndarray) -> list[tuple[int, int, int]] | None:
    """For a map that only shifts, flips and permutes axes by whole voxels: per output
    axis, ``(source axis, step +-1, source index of output index 0)``; else None.

    >>> from clara_transforms_basic.geometry import translation
    >>> integral_layout(translation([2.0, 3.0]))
    [(0, 1, 2), (1, 1, 3)]
    >>> integral_layout(translation([2.5, 3.0])) is None
    True
    """
    n = index_map.shape[0] - 1
    rounded = np.rint(index_map)
    if not np.allclose(index_map, rounded, atol=1e-6):
        return None
    linear = rounded[:n, :n]
    if not (np.abs(linear).sum(axis=0) == 1).all() or not (np.abs(linear).sum(axis=1) == 1).all():
        return None
    layout = []
    for axis in range(n):
        source = int(np.flatnonzero(linear[:, axis])[0])
        layout.append((source, int(linear[source, axis]), int(rounded[source, n])))
    return layout


def _copy_integral(src: np.ndarray, layout: list[tuple[int, int, int]], out: np.ndarray,
                   cval: float) -> None:
    """Fill ``out`` by slicing ``src`` along ``layout``; what falls outside takes ``cval``."""
    src_index: list[slice] = [slice(None)] * (src.ndim - 1)
    out_index: list[slice] = []
    for axis, (source, step, first) in enumerate(layout):
        length, size = out.shape[1 + axis], src.shape[1 + source]
        if step > 0:
            lo, hi = max(0, -first), min(length, size - first)
        else:
            lo, hi = max(0, first - size + 1), min(length, first + 1)
        if hi <= lo:
            out[...] = cval
            return
        a, b = first + step * lo, first + step * (hi - 1)
        src_index[source] = slice(a, b + 1) if step > 0 else slice(a, b - 1 if b > 0 else None,
                                                                   -1)
        out_index.append(slice(lo, hi))
    if any(s.start != 0 or s.stop != n for s, n in zip(out_index, out.shape[1:], strict=True)):
        out[...] = cval
    block = src[(slice(None), *src_index)]
    order = [0] + [1 + source for source, _, _ in layout]
    out[(slice(None), *out_index)] = block.transpose(order)


@cache
def _kernels() -> dict[tuple[int, int], Any]:
    """The compiled kernels by (spatial axes, order); compiled on first use, cached on disk.

    Each kernel computes its coordinates inline: the same lines in a shared
    ``inline="always"`` helper measured 1.5 to 3 times slower (the loop-invariant
    deformation test was no longer hoisted out of the voxel loop)."""
    from numba import njit

    jit = njit(nogil=True, cache=True, boundscheck=False)

    @jit
    def linear3(src, m, disp, out, cval):  # type: ignore[no-untyped-def]
        n_c, sx, sy, sz = src.shape
        ox, oy, oz = out.shape[1:]
        deformed = disp.shape[0] > 0
        for i in range(ox):
            for j in range(oy):
                for k in range(oz):
                    p, q, r = float(i), float(j), float(k)
                    if deformed:
                        p += disp[0, i, j, k]
                        q += disp[1, i, j, k]
                        r += disp[2, i, j, k]
                    x = m[0, 0] * p + m[0, 1] * q + m[0, 2] * r + m[0, 3]
                    y = m[1, 0] * p + m[1, 1] * q + m[1, 2] * r + m[1, 3]
                    z = m[2, 0] * p + m[2, 1] * q + m[2, 2] * r + m[2, 3]
                    x0, y0, z0 = int(np.floor(x)), int(np.floor(y)), int(np.floor(z))
                    fx, fy, fz = x - x0, y - y0, z - z0
                    if 0 <= x0 < sx - 1 and 0 <= y0 < sy - 1 and 0 <= z0 < sz - 1:
                        x1, y1, z1 = x0 + 1, y0 + 1, z0 + 1  # inside: the common case
                    elif 0 <= x <= sx - 1 and 0 <= y <= sy - 1 and 0 <= z <= sz - 1:
                        x1, y1, z1 = min(x0 + 1, sx - 1), min(y0 + 1, sy - 1), min(z0 + 1, sz - 1)
                    else:
                        for c in range(n_c):
                            out[c, i, j, k] = cval
                        continue
                    for c in range(n_c):
                        a = src[c, x0, y0, z0] * (1 - fz) + src[c, x0, y0, z1] * fz
                        b = src[c, x0, y1, z0] * (1 - fz) + src[c, x0, y1, z1] * fz
                        d = src[c, x1, y0, z0] * (1 - fz) + src[c, x1, y0, z1] * fz
                        e = src[c, x1, y1, z0] * (1 - fz) + src[c, x1, y1, z1] * fz
                        out[c, i, j, k] = ((a * (1 - fy) + b * fy) * (1 - fx)
                                           + (d * (1 - fy) + e * fy) * fx)

    @jit
    def nearest3(src, m, disp, out, cval):  # type: ignore[no-untyped-def]
        n_c, sx, sy, sz = src.shape
        ox, oy, oz = out.shape[1:]
        deformed = disp.shape[0] > 0
        for i in range(ox):
            for j in range(oy):
                for k in range(oz):
                    p, q, r = float(i), float(j), float(k)
                    if deformed:
                        p += disp[0, i, j, k]
                        q += disp[1, i, j, k]
                        r += disp[2, i, j, k]
                    x = m[0, 0] * p + m[0, 1] * q + m[0, 2] * r + m[0, 3]
                    y = m[1, 0] * p + m[1, 1] * q + m[1, 2] * r + m[1, 3]
                    z = m[2, 0] * p + m[2, 1] * q + m[2, 2] * r + m[2, 3]
                    inside = 0 <= x <= sx - 1 and 0 <= y <= sy - 1 and 0 <= z <= sz - 1
                    xi, yi, zi = int(x + 0.5), int(y + 0.5), int(z + 0.5)
                    for c in range(n_c):
                        out[c, i, j, k] = src[c, xi, yi, zi] if inside else cval

    @jit
    def linear2(src, m, disp, out, cval):  # type: ignore[no-untyped-def]
        n_c, sx, sy = src.shape
        ox, oy = out.shape[1:]
        deformed = disp.shape[0] > 0
        for i in range(ox):
            for j in range(oy):
                p, q = float(i), float(j)
                if deformed:
                    p += disp[0, i, j]
                    q += disp[1, i, j]
                x = m[0, 0] * p + m[0, 1] * q + m[0, 2]
                y = m[1, 0] * p + m[1, 1] * q + m[1, 2]
                x0, y0 = int(np.floor(x)), int(np.floor(y))
                fx, fy = x - x0, y - y0
                if 0 <= x0 < sx - 1 and 0 <= y0 < sy - 1:
                    x1, y1 = x0 + 1, y0 + 1
                elif 0 <= x <= sx - 1 and 0 <= y <= sy - 1:
                    x1, y1 = min(x0 + 1, sx - 1), min(y0 + 1, sy - 1)
                else:
                    for c in range(n_c):
                        out[c, i, j] = cval
                    continue
                for c in range(n_c):
                    out[c, i, j] = ((src[c, x0, y0] * (1 - fy) + src[c, x0, y1] * fy) * (1 - fx)
                                    + (src[c, x1, y0] * (1 - fy) + src[c, x1, y1] * fy) * fx)

    @jit
    def nearest2(src, m, disp, out, cval):  # type: ignore[no-untyped-def]
        n_c, sx, sy = src.shape
        ox, oy = out.shape[1:]
        deformed = disp.shape[0] > 0
        for i in range(ox):
            for j in range(oy):
                p, q = float(i), float(j)
                if deformed:
                    p += disp[0, i, j]
                    q += disp[1, i, j]
                x = m[0, 0] * p + m[0, 1] * q + m[0, 2]
                y = m[1, 0] * p + m[1, 1] * q + m[1, 2]
                inside = 0 <= x <= sx - 1 and 0 <= y <= sy - 1
                xi, yi = int(x + 0.5), int(y + 0.5)
                for c in range(n_c):
                    out[c, i, j] = src[c, xi, yi] if inside else cval

    return {(3, 1): linear3, (3, 0): nearest3, (2, 1): linear2, (2, 0): nearest2}


Engine = Literal["numba", "scipy"]


def resample_into(src: np.ndarray, index_map: np.ndarray, out: np.ndarray, order: int,
                  displacement: np.ndarray | None = None, cval: float = 0.0,
                  engine: Engine = "numba") -> None:
    """Fill ``out`` (``C x *shape``) from ``src`` (``C x *source_shape``) through
    ``index_map`` (output index -> source index, homogeneous), see the module's text.

    ``order`` 0 is nearest neighbour (labels), 1 linear (images). ``engine`` "numba"
    is the fast path (2 or 3 spatial axes, orders 0 and 1, an optional
    ``displacement``; an integer ``out`` with ``order=1`` receives the rounded
    interpolation). "scipy" is :func:`scipy.ndimage.affine_transform` (any spline
    order, its border rule: nearest neighbour reaches half a voxel past the edge; an
    integer ``out`` receives the interpolation truncated), what the regridding
    transforms have always given.
    """
    n = src.ndim - 1
    if out.ndim != src.ndim or index_map.shape != (n + 1, n + 1) \
            or (engine == "numba" and n not in (2, 3)):
        raise ValueError(f"resample_into: {n} spatial axes in a source of shape {src.shape}, "
                         f"an output of shape {out.shape} and a map of shape "
                         f"{index_map.shape}: expected 2 or 3 spatial axes in both and an "
                         f"({n + 1}, {n + 1}) map.")
    if engine == "scipy":
        if displacement is not None:
            raise ValueError("resample_into: the scipy engine takes no displacement; use "
                             'engine="numba".')
        _scipy_into(src, index_map, out, order, cval)
        return
    if order not in (0, 1):
        raise ValueError(f"resample_into: order {order!r}; expected 0 (nearest) or 1 (linear).")
    if displacement is None:
        layout = integral_layout(index_map)
        if layout is not None:
            _copy_integral(src, layout, out, cval)
            return
        displacement = np.zeros((0,) * (n + 1))
    kernel = _kernels()[(n, order)]
    floating = np.issubdtype(out.dtype, np.floating)
    target = out if floating or order == 0 else np.empty(out.shape, np.float32)
    source = src if floating or order == 0 or np.issubdtype(src.dtype, np.floating) \
        else src.astype(np.float32)
    kernel(source, np.ascontiguousarray(index_map, np.float64),
           np.asarray(displacement, np.float64), target, float(cval))
    if target is not out:
        np.rint(target, out=target)
        out[...] = target


def _scipy_into(src: np.ndarray, index_map: np.ndarray, out: np.ndarray, order: int,
                cval: float) -> None:
    """The "scipy" engine of :func:`resample_into`: channel by channel, in ``src``'s
    floating type (float32 for other types), cast to ``out``'s type at the end."""
    from scipy import ndimage

    floating = np.issubdtype(src.dtype, np.floating)
    source = src if floating else src.astype(np.float32)
    target = out if out.dtype == source.dtype else np.empty(out.shape, source.dtype)
    n = src.ndim - 1
    linear, offset = index_map[:n, :n], index_map[:n, n]
    matrix = np.diag(linear) if np.allclose(linear, np.diag(np.diag(linear))) else linear
    for c in range(src.shape[0]):
        ndimage.affine_transform(source[c], matrix, offset, output_shape=out.shape[1:],
                                 output=target[c], order=order, mode="constant", cval=cval,
                                 prefilter=False)
    if target is not out:
        out[...] = target


def resample_axes(data: np.ndarray, fmt: ShapeFormat, maps: np.ndarray, shape: Sequence[int],
                  order: int, displacement: np.ndarray | None = None, cval: float = 0.0,
                  engine: Engine = "numba") -> np.ndarray:
    """``data`` (laid out as ``fmt``) resampled through each of ``maps`` (``N x (n+1) x
    (n+1)``) onto a grid of ``shape``, by :func:`resample_into`: an array of ``N``
    results stacked on a new leading axis, each laid out as ``fmt``, of ``data``'s
    type. ``displacement`` (``N x n x *shape`` or None) deforms each grid first.

    >>> from clara_core import ShapeFormat
    >>> from clara_transforms_basic.geometry import scaling
    >>> data = np.arange(8.0).reshape(8, 1, 1)              # 8 x 1 pixels, one channel
    >>> resample_axes(data, ShapeFormat("HWC"), scaling([8, 1], [4, 1])[None], [4, 1], 1,
    ...               engine="scipy")[0, :, 0, 0].tolist()
    [0.5, 2.5, 4.5, 6.5]
    """
    spatial = list(fmt.get_spatial_axes())
    other = [a for a in range(data.ndim) if a not in spatial]
    moved = np.moveaxis(data, other, list(range(len(other))))
    lead = moved.shape[: len(other)]
    flat = moved.reshape((-1, *moved.shape[len(other):]))
    out = np.empty((len(maps), flat.shape[0], *shape), data.dtype)
    for k, index_map in enumerate(maps):
        disp = None if displacement is None else displacement[k]
        resample_into(flat, index_map, out[k], order, disp, cval, engine)
    out = out.reshape((len(maps), *lead, *shape))
    return np.moveaxis(out, list(range(1, 1 + len(other))), [1 + a for a in other])


def resample(image: MedicalImage, index_map: np.ndarray, out_shape: Sequence[int],
             order: int, cval: float = 0.0) -> MedicalImage:
    """``image`` resampled now (the "scipy" engine) on the output grid ``out_shape``
    through ``index_map``: what the regridding transforms (``ScaleTo*``, the writers'
    return to the input's grid) and stacks of crops use; the lazy transforms go
    through :mod:`clara_transforms_basic.lazy`. The affine and spacing follow the map.

    >>> from clara_core import MedicalImage
    >>> from clara_transforms_basic.geometry import scaling
    >>> out = resample(MedicalImage(np.eye(4), "HW", {"spacing": (1.0, 1.0)}),
    ...                scaling([4, 4], [2, 2]), [2, 2], order=0)
    >>> out.get_data().tolist(), out.get_property("spacing")
    ([[1.0, 0.0], [0.0, 1.0]], (2.0, 2.0))
    """
    shape = tuple(int(s) for s in out_shape)
    data = resample_axes(image.get_data(), image.get_shape_format(),
                         np.asarray(index_map, float)[None], shape, order, cval=cval,
                         engine="scipy")[0]
    return with_index_map(image, data, image.get_shape_format(), index_map)


__all__ = ["Engine", "integral_layout", "resample", "resample_axes", "resample_into"]
