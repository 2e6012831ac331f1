"""The training rules: crops, augmentation, optimizer, learning rate and epochs.

>>> optimizer(400).value["name"], optimizer(250_000).value["name"]
('Adam', 'SGD')
>>> epochs(None, None, steps_per_epoch=4, step_seconds=0.1, cpu=True).value
80
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core.plan.rules import Decision

#: optimizer steps of a default run: the CPU profile's (as the hand-written brain
#: example's 80 epochs of 4 steps), nnU-Net's 1000 epochs of 250 steps on a GPU
CPU_STEPS = 320
GPU_STEPS = 250_000
#: below this many steps Adam converges where SGD with momentum 0.99 has barely started
ADAM_BELOW_STEPS = 20_000
#: sustained training throughput for the time-budget estimate, in FLOP/s
CPU_FLOPS = 6e10
GPU_FLOPS = 2e13


def oversampling(patch: Sequence[int], median_shape: Sequence[float]) -> Decision:
    """Crops centred on foreground: 75% when the patch sees under a quarter of the
    median image, else nnU-Net's 33%."""
    share = float(np.prod(patch)) / max(1.0, float(np.prod(median_shape)))
    if share < 0.25:
        return Decision({"pos": 3, "neg": 1},
                        f"the patch covers {share:.0%} of the median image: 3 of 4 crops "
                        "centred on foreground so each step sees the classes")
    return Decision({"pos": 1, "neg": 2}, f"the patch covers {share:.0%} of the median image: "
                                          "1 of 3 crops centred on foreground (nnU-Net)")


def augmentation(dims: int, kernels: Sequence[int], cpu: bool) -> Decision:
    """nnU-Net's chain in the fused spatial transforms: rotation (in-plane only where an
    axis is anisotropic), scaling, mirroring on every axis; noise and blur."""
    flat = [a for a, k in enumerate(kernels) if k == 1]
    chain: list[dict[str, Any]] = []
    if dims == 3:
        angle = [0.0 if a in flat else 15.0 for a in range(3)]
        chain.append({"name": "RandomRotate3D", "args": {"angle": angle, "probability": 0.2}})
    else:
        chain.append({"name": "RandomRotate2D", "args": {"angle": 15.0, "probability": 0.2}})
    chain.append({"name": "RandomZoom", "args": {"lower_limits": 0.85, "upper_limits": 1.25,
                                                 "probability": 0.2}})
    chain.append({"name": "RandomSpatialFlip", "args": {"fields": ["image", "label"],
                                                        "probability": 0.5}})
    if not cpu:
        chain.append({"name": "AddGaussianNoise", "args": {"fields": "image",
                                                           "probability": 0.1}})
        chain.append({"name": "RandomGaussianSmooth", "args": {"fields": "image",
                                                               "probability": 0.1}})
    return Decision(chain, f"rotation (±15°{', in-plane' if flat else ''}) and scaling "
                           "(0.85-1.25) with p=0.2, mirroring on every axis"
                           f"{'' if cpu else ', noise and blur with p=0.1'}: one "
                           "interpolation per crop (fused)")


def optimizer(steps: int) -> Decision:
    """SGD with Nesterov momentum 0.99 at 0.01 for long runs (nnU-Net); Adam at 3e-3
    for short ones, where SGD's momentum has not built up."""
    if steps >= ADAM_BELOW_STEPS:
        return Decision({"name": "SGD", "args": {"momentum": 0.99, "nesterov": True},
                         "learning_rate": 0.01},
                        f"{steps} steps: SGD with Nesterov momentum 0.99 at 0.01 (nnU-Net)")
    return Decision({"name": "Adam", "args": {"epsilon": 1e-7}, "learning_rate": 3e-3},
                    f"{steps} steps: Adam at 3e-3, which converges in a short run where SGD "
                    "with momentum 0.99 needs ~10^5 steps")


def step_seconds(patch: Sequence[int], strides: Sequence[Sequence[int]],
                 kernels: Sequence[Sequence[int]], feats: Sequence[int], batch: int,
                 channels: int, cpu: bool) -> float:
    """Estimated seconds per training step: the convolutions' FLOPs (two per block,
    encoder and decoder, forward and backward) at the profile's throughput."""
    size = np.asarray(patch, float)
    flops, f_in = 0.0, channels
    for stride, kernel, f in zip(strides, kernels, feats, strict=True):
        size = size / np.asarray(stride, float)
        per_voxel = float(np.prod(kernel)) * (f_in * f + f * f)
        flops += float(np.prod(size)) * per_voxel * 2 * 2 * 3
        f_in = f
    return flops * batch / (CPU_FLOPS if cpu else GPU_FLOPS)


def epochs(given: int | None, minutes: float | None, steps_per_epoch: int,
           step_seconds: float, cpu: bool) -> Decision:
    """``--epochs``; else what ``--time-budget`` allows at the estimated step time; else
    the profile's default number of steps."""
    if given:
        return Decision(given, f"--epochs {given}")
    if minutes:
        count = max(1, int(minutes * 60 * 0.85 / max(step_seconds * steps_per_epoch, 1e-6)))
        return Decision(count, f"--time-budget {minutes:g} min at an estimated "
                               f"{step_seconds:.3f} s per step, {steps_per_epoch} steps per "
                               "epoch (15% kept for validation)")
    target = CPU_STEPS if cpu else GPU_STEPS
    count = max(10, math.ceil(target / steps_per_epoch))
    return Decision(count, f"{target} steps ({'CPU profile' if cpu else 'nnU-Net'}) at "
                           f"{steps_per_epoch} steps per epoch")


def validation_interval(count: int) -> Decision:
    """Four validations per run (the last epoch always validates).

    >>> validation_interval(80).value, validation_interval(54).value
    (20, 14)
    """
    every = max(1, math.ceil(count / 4))
    return Decision(every, f"every {every} epoch(s) and the last: four validations, the "
                           "best weights kept")


def inferer(patch: Sequence[int], median_shape: Sequence[float], divisors: Sequence[int],
            cpu: bool) -> Decision:
    """The Gaussian sliding window (overlap 0.5, nnU-Net); its window is the patch, or
    in the CPU profile twice the patch per axis up to the median image (the network is
    fully convolutional): a tenth of the windows, the same Dice on the brain example."""
    window = list(patch)
    if cpu:
        window = [min(2 * p, max(p, int(math.ceil(m / d)) * d))
                  for p, m, d in zip(patch, median_shape, divisors, strict=True)]
    why = ("twice the patch per axis up to the median image (CPU profile: fewer windows)"
           if cpu else "the patch size")
    return Decision({"name": "TFScanWindowInferer",
                     "args": {"roi_size": window, "overlap": 0.5, "mode": "gaussian",
                              "batch_size": 1 if cpu else 2}},
                    f"Gaussian-weighted sliding window of {window} ({why}), overlap 0.5 "
                    "(nnU-Net); clara infer --tta adds mirroring")
