"""Running a transform chain: a cached deterministic prefix and a seeded random suffix."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core.components.transform import Transformer
from clara_core.errors import ClaraError
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext


def split_chain(transforms: Sequence[Transformer]) -> tuple[list[Transformer], list[Transformer]]:
    """Split at the first transform whose ``is_deterministic()`` is False.

    >>> class T(Transformer):
    ...     def __init__(self, det): self.det = det
    ...     def is_deterministic(self): return self.det
    >>> head, tail = split_chain([T(True), T(False), T(True)])
    >>> len(head), len(tail)
    (1, 2)
    """
    for i, t in enumerate(transforms):
        if not t.is_deterministic():
            return list(transforms[:i]), list(transforms[i:])
    return list(transforms), []


class CaseError(ClaraError, RuntimeError):
    """A case that cannot go through the chain: names the files and the transform."""


def _files(ctx: TransformContext) -> dict[str, str]:
    """The file names of a case, from the datalist's strings (a list of them joined) or
    the images' properties.

    >>> _files(TransformContext({"image": ["a_0000.nii", "a_0001.nii"], "label": "a.nii"}))
    {'image': 'a_0000.nii, a_0001.nii', 'label': 'a.nii'}
    """
    out = {}
    for k, v in ctx.items():
        if isinstance(v, str):
            out[k] = v
        elif isinstance(v, list | tuple) and v and all(isinstance(f, str) for f in v):
            out[k] = ", ".join(v)  # one file per channel
        elif isinstance(v, MedicalImage) and v.get_property("filename"):
            out[k] = str(v.get_property("filename"))
    return out


def run_transforms(transforms: Sequence[Transformer], ctx: TransformContext) -> TransformContext:
    """Apply ``transforms`` in order; an error names the transform and the case's files."""
    for t in transforms:
        try:
            ctx = t.transform(ctx)
        except Exception as exc:
            raise CaseError(
                f"Transform {type(t).__name__} failed on case {_files(ctx)}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(ctx, TransformContext):
            raise TypeError(f"{type(t).__name__}.transform() returned {type(ctx).__name__}; it "
                            "must return the TransformContext it was given.")
    return ctx


def check_case(ctx: TransformContext, image_field: str, label_field: str,
               transforms: Sequence[Transformer]) -> None:
    """Stop a bad case early: NaN or infinite values, or an image and a label that are
    not on the same grid, named with the files and the last transform that ran.

    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.array([[1.0, np.nan]]), "HW", {"filename": "a.nii"}))
    >>> check_case(ctx, "image", "label", [])
    Traceback (most recent call last):
    ...
    clara_core.data.chain.CaseError: Case {'image': 'a.nii'}: field 'image' has 1 NaN/infinite value(s) after the datalist's raw values; fix the file or add a transform that replaces them.
    """
    after = type(transforms[-1]).__name__ if transforms else "the datalist's raw values"
    images = {f: ctx[f] for f in (image_field, label_field)
              if f in ctx and isinstance(ctx[f], MedicalImage)}
    for field, img in images.items():
        data = img.get_data()
        if np.issubdtype(data.dtype, np.floating) and not np.isfinite(data).all():
            bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
            raise CaseError(f"Case {_files(ctx)}: field {field!r} has {bad} NaN/infinite "
                            f"value(s) after {after}; fix the file or add a transform that "
                            "replaces them.")
    if len(images) == 2:
        image, label = images[image_field], images[label_field]
        def grid(img: MedicalImage) -> tuple[int, ...]:
            fmt = img.get_shape_format()
            return tuple(img.get_data().shape[a] for a in fmt.get_spatial_axes())
        if grid(image) != grid(label):
            raise CaseError(f"Case {_files(ctx)}: image spatial shape {grid(image)} and label "
                            f"spatial shape {grid(label)} differ after {after}; the label "
                            "must be drawn on the image's grid (resample one onto the other).")
        a, b = image.get_property("affine"), label.get_property("affine")
        if a is not None and b is not None and np.shape(a) == np.shape(b):
            shift = _misalignment(np.asarray(a, float), np.asarray(b, float), grid(image))
            if shift > 0.1:
                raise CaseError(
                    f"Case {_files(ctx)}: image and label have the same shape but their "
                    f"affines place voxels up to {shift:.2g} voxels apart after {after} "
                    f"(image {np.round(a, 3).tolist()}, label {np.round(b, 3).tolist()}); the "
                    "label is not drawn on the image's grid.")


def check_label_values(ctx: TransformContext, label_field: str,
                       num_classes: int | None) -> None:
    """Stop a case whose label image is not class indices: fractional values, or (for a
    one-channel label and a known class count) values outside ``[0, num_classes)``.

    >>> ctx = TransformContext()
    >>> ctx.set_image("label", MedicalImage(np.array([[[0.0, 5.0]]]), "CHW", {"filename": "l.nii"}))
    >>> check_label_values(ctx, "label", 2)
    Traceback (most recent call last):
    ...
    clara_core.data.chain.CaseError: Case {'label': 'l.nii'}: label values 5 lie outside 0..1 (the model's num_classes is 2); fix the label file, or set num_classes to the number of classes it holds.
    """
    label = ctx.get(label_field)
    if not isinstance(label, MedicalImage):
        return
    data = label.get_data()
    if np.issubdtype(data.dtype, np.floating) and not np.array_equal(data, np.round(data)):
        some = np.unique(data[data != np.round(data)])[:3].tolist()
        raise CaseError(f"Case {_files(ctx)}: the label holds non-integer values such as "
                        f"{some}; labels must be class indices. Resample labels with nearest "
                        "neighbour (is_label: true), or round them with a transform.")
    axis = label.get_shape_format().get_channel_axis()
    if num_classes is None or (axis is not None and data.shape[axis] != 1) or not data.size:
        return
    top = max(num_classes, 2)  # one output channel (sigmoid) still takes labels 0 and 1
    low, high = float(data.min()), float(data.max())
    if low < 0 or high >= top:
        bad = sorted({int(v) for v in (low, high) if v < 0 or v >= top})
        raise CaseError(f"Case {_files(ctx)}: label values {', '.join(map(str, bad))} lie "
                        f"outside 0..{top - 1} (the model's num_classes is "
                        f"{num_classes}); fix the label file, or set num_classes to the "
                        "number of classes it holds.")


def _misalignment(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    """How far apart (in voxels of ``a``) the two affines put the corners of a grid:
    header round-off gives ~1e-5, a real misalignment tenths of a voxel or more. A grid
    of fewer axes than the affine (a 2D image's 4x4 affine) lies at index 0 of the rest.

    >>> _misalignment(np.eye(4), np.diag([1.0, 1.0, 5.0, 1.0]), (8, 8))
    0.0
    """
    n = a.shape[0] - 1
    shape = (tuple(shape) + (1,) * n)[:n]
    corners = np.array(np.meshgrid(*[[0, max(s - 1, 0)] for s in shape], indexing="ij"))
    corners = np.vstack([corners.reshape(n, -1), np.ones((1, corners[0].size))])
    moved = np.linalg.solve(a, b @ corners)[:n] - corners[:n]
    return float(np.abs(moved).max())


class SeededSuffix:
    """Private copies of the random transforms, reseeded per (epoch, case).

    Seeding from ``(seed, epoch, case)`` makes the augmentation of a case the same
    whatever the worker count or order, and different for every case and epoch.
    """

    def __init__(self, transforms: Sequence[Transformer], seed: int) -> None:
        self.transforms = [copy.deepcopy(t) for t in transforms]
        self.seed = seed

    def __call__(self, ctx: TransformContext, epoch: int, case: int) -> TransformContext:
        seq = np.random.SeedSequence([self.seed, epoch, case])
        for t, s in zip(self.transforms, seq.spawn(len(self.transforms)), strict=True):
            t.set_random_state(int(s.generate_state(1)[0]))
        return run_transforms(self.transforms, ctx.copy())


def unbatch_samples(ctx: TransformContext, fields: Sequence[str]) -> list[dict[str, Any]]:
    """Split a case into samples: fields with a batch axis (``N...``) give one sample each;
    fields that are not images (a class label) are repeated as arrays."""
    arrays = {f: ctx[f].get_data() if isinstance(ctx[f], MedicalImage) else
              np.asarray(ctx[f], dtype=np.float32).reshape(-1) for f in fields}
    batched = {f for f in fields
               if isinstance(ctx[f], MedicalImage) and ctx[f].get_shape_format().is_batched()}
    counts = {arrays[f].shape[0] for f in batched}
    if not counts:
        return [arrays]
    if len(counts) > 1:
        raise ValueError(f"Fields {list(fields)} have different batch sizes {sorted(counts)}.")
    n = counts.pop()
    return [{f: a[i] if f in batched else a for f, a in arrays.items()} for i in range(n)]
