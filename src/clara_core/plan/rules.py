"""The planning rules: each decision a small function returning ``Decision(value, reason)``.

The rules follow nnU-Net's (Isensee et al. 2021) where they apply: median target
spacing with the anisotropic-axis rule, a patch from the median resampled shape shrunk
to a budget, pooling per axis until the feature map is about 4 voxels (never along an
axis much coarser than the finest), batch from what the budget leaves. Where nnU-Net
assumes a GPU and days of training, the CPU profile keeps the same rules at a scale
that trains in minutes.

>>> target_spacing([[1.0, 1.0, 1.0], [1.2, 1.0, 1.0], [0.8, 1.0, 1.0]], [[64, 64, 64]] * 3).value
[1.0, 1.0, 1.0]
>>> topology([32, 32, 32], [2.0, 2.0, 2.0], 3).value["strides"]
[[1, 1, 1], [2, 2, 2], [2, 2, 2], [2, 2, 2]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

#: a spacing this many times the finest is anisotropic (nnU-Net's ANISO_THRESHOLD)
ANISO_THRESHOLD = 3.0
#: pooling stops when the feature map would fall under this many voxels on an axis
MIN_FEATURE_MAP = 4
#: bytes of training memory per voxel of a feature map (activations, their gradients,
#: normalisation), fitted to nnU-Net's 128^3 patch with 32-320 filters and batch 2 in 8 GB
BYTES_PER_FEATURE_VOXEL = 45.0


@dataclass(frozen=True)
class Decision:
    """A planned value and one line saying why."""

    value: Any
    reason: str


@dataclass(frozen=True)
class Profile:
    """The hardware the plan is for: a GPU memory budget, or the CPU profile."""

    device: str
    memory_gb: float
    base_filters: int
    max_filters: int
    min_batch: int
    cpu_patch_voxels: int = 0

    @property
    def cpu(self) -> bool:
        return self.device == "cpu"


def profile(memory_gb: float | None, gpu_memory_gb: float | None, dims: int) -> Decision:
    """A given ``--memory-gb``, the GPU found, or the CPU profile."""
    top = 320 if dims == 3 else 512
    if memory_gb is not None:
        return Decision(Profile("gpu", memory_gb, 32, top, 2),
                        f"--memory-gb {memory_gb:g}: nnU-Net's scale (32 base filters, up to "
                        f"{top}) within {memory_gb:g} GB")
    if gpu_memory_gb:
        return Decision(Profile("gpu", gpu_memory_gb * 0.85, 32, top, 2),
                        f"a GPU with {gpu_memory_gb:.0f} GB: plan for 85% of it at nnU-Net's "
                        f"scale (32 base filters, up to {top})")
    voxels = 32 ** 3 if dims == 3 else 128 ** 2
    side = "32^3" if dims == 3 else "128^2"
    return Decision(Profile("cpu", 0.0, 8 if dims == 3 else 16, 64 if dims == 3 else 128, 4,
                            voxels),
                    f"no GPU found: the CPU profile (patches up to {side} voxels, "
                    f"{8 if dims == 3 else 16} base filters, batch 4) trains in minutes")


def one_slice_axis(dims: int, shapes: ArrayLike) -> Decision:
    """The axis along which every case of a 3D dataset is one voxel thick (2D slices
    stored as ``H x W x 1`` volumes), or None.

    >>> one_slice_axis(3, [[60, 72, 1], [64, 64, 1]]).value, one_slice_axis(3, [[4, 5, 6]]).value
    (2, None)
    """
    sh = np.asarray(shapes, float)
    flat = [a for a in range(sh.shape[1]) if np.all(sh[:, a] == 1)] if dims == 3 else []
    if len(flat) != 1:
        return Decision(None, "no axis is one voxel thick in every case")
    return Decision(flat[0], f"every case is one slice thick along axis {flat[0]}: 2D images "
                             "stored as volumes, planned as 2D (SqueezeSpatialAxis drops the "
                             "axis on loading; segmentations get it back)")


def dimensionality(dims: int, resampled_shape: Sequence[float]) -> Decision:
    """2D for 2D data; 3D otherwise, pooling only in-plane along an axis too short for it."""
    if dims == 2:
        return Decision("2d", "the images are 2D")
    thin = [i for i, s in enumerate(resampled_shape) if s < 2 * MIN_FEATURE_MAP]
    if thin:
        return Decision("3d", f"3D with in-plane (2D-like) kernels along axis {thin[0]}: "
                              f"{resampled_shape[thin[0]]:.0f} voxels is too few to pool")
    return Decision("3d", "the images are 3D volumes with enough voxels on every axis for a "
                          "3D patch")


def target_spacing(spacings: ArrayLike, shapes: ArrayLike) -> Decision:
    """Median spacing per axis; an anisotropic axis (spacing over 3x the others' and
    fewer than a third of their voxels) gets its 10th percentile, not below the others."""
    sp, sh = np.asarray(spacings, float), np.asarray(shapes, float)
    target = np.median(sp, axis=0)
    median_shape = np.median(sh, axis=0)
    worst = int(np.argmax(target))
    others = [i for i in range(len(target)) if i != worst]
    if not others:
        return Decision([float(t) for t in target], "median spacing")
    aniso_spacing = target[worst] > ANISO_THRESHOLD * max(target[others])
    aniso_voxels = median_shape[worst] * ANISO_THRESHOLD < min(median_shape[others])
    if aniso_spacing and aniso_voxels:
        low = max(float(np.percentile(sp[:, worst], 10)), float(max(target[others])))
        target[worst] = low
        return Decision(_round(target), f"median spacing, but axis {worst} is anisotropic "
                        f"(over {ANISO_THRESHOLD:g}x the others, few voxels): its 10th "
                        "percentile, so resampling does not interpolate away its slices")
    return Decision(_round(target), "the median spacing of the cases, per axis")


def _round(values: Any) -> list[float]:
    return [float(f"{v:.6g}") for v in values]


def resampled_shape(spacings: ArrayLike, shapes: ArrayLike,
                    target: Sequence[float]) -> list[float]:
    """The median shape of the cases once resampled to ``target``."""
    sp, sh = np.asarray(spacings, float), np.asarray(shapes, float)
    return [float(v) for v in np.median(sh * sp / np.asarray(target, float), axis=0)]


def needs_resampling(spacings: ArrayLike, target: Sequence[float]) -> Decision:
    """Resample unless every case is already on the target spacing (within 1%)."""
    sp = np.asarray(spacings, float)
    if np.allclose(sp, np.asarray(target, float)[None], rtol=0.01):
        return Decision(False, "every case already has the target spacing: no resampling")
    return Decision(True, "cases differ in spacing: resample images (linear) and labels "
                          "(nearest) to the target spacing")


def topology(patch: Sequence[int], spacing: Sequence[float], dims: int,
             max_stages: int | None = None) -> Decision:
    """Kernels and strides per stage and axis (nnU-Net's rule): an axis is pooled while
    its feature map stays at least ``MIN_FEATURE_MAP`` and its spacing is within 2x of the
    finest; its kernel is 3 where the spacing is within 2x of the finest, else 1. An axis
    of one voxel (a 2D image stored as a one-slice volume) has kernel 1 and no say in
    the finest spacing.

    >>> topology([64, 64, 1], [0.5, 0.5, 1.0], 3).value["kernels"]
    [[3, 3, 1], [3, 3, 1], [3, 3, 1], [3, 3, 1], [3, 3, 1]]
    """
    max_stages = max_stages or (6 if dims == 3 else 7)
    size, sp = [float(p) for p in patch], [float(s) for s in spacing]
    live = [a for a in range(len(sp)) if size[a] > 1] or list(range(len(sp)))

    def kernel() -> list[int]:
        finest = min(sp[a] for a in live)
        return [3 if a in live and sp[a] <= 2 * finest else 1 for a in range(len(sp))]

    kernels, strides = [kernel()], [[1] * len(sp)]
    while len(strides) < max_stages:
        finest = min(sp[a] for a in live)
        pool = [size[a] / 2 >= MIN_FEATURE_MAP and sp[a] <= 2 * finest for a in range(len(sp))]
        if not any(pool):
            break
        strides.append([2 if p else 1 for p in pool])
        size = [s / 2 if p else s for s, p in zip(size, pool, strict=True)]
        sp = [s * 2 if p else s for s, p in zip(sp, pool, strict=True)]
        kernels.append(kernel())
    divisors = [int(np.prod([s[a] for s in strides])) for a in range(len(patch))]
    pools = [int(math.log2(d)) for d in divisors]
    return Decision({"kernels": kernels, "strides": strides, "divisors": divisors},
                    f"{len(strides)} stages; poolings per axis {pools}, down to feature maps "
                    f"of {[round(float(p) / d, 1) for p, d in zip(patch, divisors, strict=True)]} voxels")


def filters(stages: int, prof: Profile) -> list[int]:
    """Filters doubling per stage from the profile's base, capped (nnU-Net: 32 to 320)."""
    return [min(prof.base_filters * 2 ** i, prof.max_filters) for i in range(stages)]


def memory_gb(patch: Sequence[int], strides: Sequence[Sequence[int]], feats: Sequence[int],
              batch: int) -> float:
    """Estimated training memory: feature-map voxels x ``BYTES_PER_FEATURE_VOXEL``."""
    size = np.asarray(patch, float)
    total = 0.0
    for stride, f in zip(strides, feats, strict=True):
        size = size / np.asarray(stride, float)
        total += float(np.prod(size)) * f
    return total * batch * BYTES_PER_FEATURE_VOXEL / 1e9


def patch_size(shape: Sequence[float], spacing: Sequence[float], dims: int,
               prof: Profile) -> Decision:
    """The median resampled shape (an isotropic-in-mm start where it is larger), shrunk
    along the axis largest relative to the median shape and in mm until it fits."""
    start = np.asarray([1.0 / s for s in spacing])
    volume = (256.0 ** 3 if dims == 3 else 2048.0 ** 2)
    start = start * (volume / float(np.prod(start))) ** (1.0 / len(start))
    patch = [int(round(min(a, b))) for a, b in zip(start, shape, strict=True)]
    while True:
        topo = topology(patch, spacing, dims).value
        patch = _divisible(patch, topo["divisors"])
        feats = filters(len(topo["strides"]), prof)
        if prof.cpu:
            fits = float(np.prod(patch)) <= prof.cpu_patch_voxels
        else:
            fits = memory_gb(patch, topo["strides"], feats, prof.min_batch) <= prof.memory_gb
        if fits or max(patch) <= 2 * MIN_FEATURE_MAP:
            break
        axis = _axis_to_shrink(patch, shape, spacing)
        patch[axis] -= topo["divisors"][axis] if patch[axis] > topo["divisors"][axis] else 1
    budget = (f"at most {prof.cpu_patch_voxels} voxels (CPU profile)" if prof.cpu
              else f"an estimated {memory_gb(patch, topo['strides'], feats, prof.min_batch):.1f}"
                   f" of {prof.memory_gb:.1f} GB at batch {prof.min_batch}")
    return Decision(patch, f"from the median resampled shape {[round(s) for s in shape]}, "
                           f"shrunk to {budget}; divisible by {topo['divisors']}")


def _axis_to_shrink(patch: Sequence[int], shape: Sequence[float],
                    spacing: Sequence[float]) -> int:
    """nnU-Net's axis, the largest relative to the median shape, weighted by its extent
    in mm relative to the longest: a thick-slice axis is not shrunk to a few slices
    while the others still span many more millimetres.

    >>> _axis_to_shrink([320, 320, 20], [320, 320, 20], [0.6, 0.6, 3.6])
    0
    """
    mm = [p * s for p, s in zip(patch, spacing, strict=True)]
    score = [p / max(m, 1.0) * (x / max(mm)) for p, m, x in zip(patch, shape, mm, strict=True)]
    return int(np.argmax(score))


def _divisible(patch: Sequence[int], divisors: Sequence[int]) -> list[int]:
    return [max(d, int(round(p / d)) * d) for p, d in zip(patch, divisors, strict=True)]


def batch_size(patch: Sequence[int], strides: Sequence[Sequence[int]], feats: Sequence[int],
               prof: Profile, dataset_voxels: float) -> Decision:
    """The profile's minimum, grown while memory allows, the batch covering at most 5%
    of the dataset's voxels (nnU-Net's cap) and 64 samples."""
    if prof.cpu:
        return Decision(prof.min_batch, f"CPU profile: {prof.min_batch} crops per step, "
                                        "all from one case")
    batch = prof.min_batch
    cap = max(prof.min_batch, int(0.05 * dataset_voxels / float(np.prod(patch))))
    while (batch < min(cap, 64)
           and memory_gb(patch, strides, feats, batch + 1) <= prof.memory_gb):
        batch += 1
    return Decision(batch, f"{batch}: as many patches as the memory budget holds (at least "
                           f"{prof.min_batch}), covering at most 5% of the dataset's voxels")


def normalisation(modalities: Sequence[str], intensity: Sequence[dict[str, float]],
                  nonzero_fraction: float) -> Decision:
    """CT: clip to the foreground's percentiles 0.5/99.5, z-score with the foreground's
    mean/std; RGB: scale 0-255 to 0-1; others: per-image z-score (of the non-zero voxels
    when zeros are background, or with several channels). Several channels of which some
    are CT: each CT channel its own CT window, the others the z-score of their non-zero
    voxels (nnU-Net normalises per channel, by its modality).

    >>> stats = {"percentile_00_5": -100.0, "percentile_99_5": 300.0, "mean": 100.0, "std": 100.0}
    >>> d = normalisation(["CT", "MR"], [stats, stats], 1.0)
    >>> [c["kind"] for c in d.value["channels"]], d.value["channels"][0]["b_min"]
    (['ct', 'zscore_nonzero'], -2.0)
    """
    kinds = {m.upper() for m in modalities}
    named = "/".join(sorted(kinds - {"UNKNOWN"})) or "modality not given (not CT)"
    if kinds == {"CT"} and len(intensity) == 1:
        ct, why = _ct(intensity[0])
        return Decision(ct, f"CT: {why}")
    if kinds == {"RGB"}:
        return Decision({"kind": "rgb"}, "RGB: each channel scaled from 0-255 to 0-1")
    if len(intensity) > 1 and "CT" in kinds:
        channels, whys = [], []
        for c, stats in enumerate(intensity):
            modality = modalities[c] if c < len(modalities) else "unknown"
            if modality.upper() == "CT":
                ct, why = _ct(stats)
                channels.append(ct)
                whys.append(f"channel {c} ({modality}): {why}")
            else:
                channels.append({"kind": "zscore_nonzero"})
                whys.append(f"channel {c} ({modality}): z-score of its non-zero voxels")
        return Decision({"kind": "per_channel", "channels": channels},
                        "per channel, by modality: " + "; ".join(whys))
    if len(intensity) > 1 or nonzero_fraction < 0.75:
        why = ("several channels, each" if len(intensity) > 1 else
               f"zeros are background ({1 - nonzero_fraction:.0%} of voxels): the")
        return Decision({"kind": "zscore_nonzero"},
                        f"{named}: per-image z-score of the non-zero voxels "
                        f"({why} non-zero voxels normalised, zeros stay zero)")
    return Decision({"kind": "zscore"}, f"{named}: per-image z-score")


def _ct(s: dict[str, float]) -> tuple[dict[str, Any], str]:
    """nnU-Net's CT normalisation from a channel's foreground statistics, and why."""
    lo, hi, mean, std = (s["percentile_00_5"], s["percentile_99_5"], s["mean"],
                         max(s["std"], 1e-8))
    return ({"kind": "ct", "a_min": lo, "a_max": hi, "b_min": (lo - mean) / std,
             "b_max": (hi - mean) / std},
            f"clip to the foreground's [{lo:.4g}, {hi:.4g}] (percentiles 0.5, 99.5), "
            f"z-score with its mean {mean:.4g} and std {std:.4g}")

def outputs(labels: dict[int, str], regions: dict[str, tuple[int, ...]] | None,
            class_order: Sequence[int] | None = None) -> Decision:
    """The network's output channels: a softmax over the label values, or with
    region-based labels one sigmoid channel per region (nnU-Net's regions; with its
    ``regions_class_order``, segmentations are painted back into one label map).

    >>> outputs({0: "bg", 1: "liver", 2: "tumour"}, None).value
    {'kind': 'classes', 'channels': 3}
    >>> outputs({0: "bg", 1: "a", 2: "b"}, {"whole": (1, 2), "core": (2,)}).value["channels"]
    2
    >>> outputs({0: "bg", 255: "lesion"}, None).value
    {'kind': 'classes', 'channels': 2, 'values': [0, 255]}
    """
    if regions:
        shown = ", ".join(f"{name}={list(values)}" for name, values in regions.items())
        painted = {"class_order": list(class_order)} if class_order else {}
        back = (f"; segmentations painted back into one label map in the order "
                f"{list(class_order)} (regions_class_order)" if class_order else
                "; segmentations keep one channel per region (no regions_class_order)")
        return Decision({"kind": "regions", "channels": len(regions),
                         "regions": {k: list(v) for k, v in regions.items()}, **painted},
                        f"region-based labels ({shown}): one sigmoid output per region, "
                        f"each thresholded at 0.5 (regions overlap: no argmax){back}")
    count = max(labels) + 1
    unused = sorted(set(range(count)) - set(labels))
    if len(unused) > len(labels):  # a mask stored as 0/255: one output per value found
        values = sorted(labels)
        return Decision({"kind": "classes", "channels": len(values), "values": values},
                        f"softmax over {len(values)} classes (argmax): the label values "
                        f"{values} are read as classes 0 to {len(values) - 1} "
                        "(MapLabelValue), and clara infer writes segmentations in these values")
    note = f"; values {unused} are not labels and are never a target" if unused else ""
    return Decision({"kind": "classes", "channels": count},
                    f"softmax over the label values 0 to {count - 1} (argmax){note}")


def loss(regions: dict[str, tuple[int, ...]] | None) -> Decision:
    """Dice + cross-entropy: over the classes, or of each region's sigmoid channel."""
    if regions:
        return Decision({"name": "CrossEntropyDice", "args": {
            "is_onehot_targets": True, "sigmoid": True}},
            "Dice + binary cross-entropy of each region's sigmoid output against its "
            "channel of the label (nnU-Net's region-based training)")
    return Decision({"name": "CrossEntropyDice", "args": {}},
                    "Dice + cross-entropy (nnU-Net), on every deep-supervision output")
