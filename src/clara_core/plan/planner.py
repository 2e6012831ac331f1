"""The plan: every rule applied to a fingerprint, in order, each with its reason.

``Plan.decisions`` maps a decision's name to ``Decision(value, reason)``; the writer
turns them into an MMAR, ``plan/plan.json`` records them and ``clara plan`` prints
the reasons.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.plan import rules, schedule
from clara_core.plan.fingerprint import Fingerprint
from clara_core.plan.rules import Decision


@dataclass(frozen=True)
class Options:
    """What the user asked of ``clara plan``."""

    memory_gb: float | None = None
    epochs: int | None = None
    time_budget_min: float | None = None
    folds: int | None = None
    fold: int = 0
    search: bool = False


@dataclass
class Plan:
    """The decisions, in the order they were made."""

    decisions: dict[str, Decision] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.decisions[name].value

    def add(self, name: str, decision: Decision) -> Decision:
        self.decisions[name] = decision
        return decision

    def record(self) -> dict[str, Any]:
        return {name: {"value": d.value, "reason": d.reason} for name, d in self.decisions.items()}

    def lines(self) -> list[str]:
        return [f"{name}: {_short(d.value)} ({d.reason})" for name, d in self.decisions.items()]


def _short(value: Any) -> str:
    if isinstance(value, rules.Profile):
        return value.device
    if isinstance(value, dict) and "name" in value:
        return str(value["name"])
    if isinstance(value, dict) and value.get("kind") == "per_channel":
        return "per_channel: " + ", ".join(str(c["kind"]) for c in value["channels"])
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return ", ".join(str(v.get("name", v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in value.items() if k != "divisors")
    return str(value)


def gpu_memory_gb() -> float | None:
    """The first GPU's memory as nvidia-smi reports it; None without one."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        out = subprocess.run([smi, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
        return float(out.split()[0]) / 1024
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def make_plan(fp: Fingerprint, options: Options, training_cases: int,
              gpu_gb: float | None = None) -> Plan:
    """Apply every rule to ``fp``."""
    plan = Plan()
    spacings, shapes, dims = fp.spacings(), fp.shapes(), fp.dims
    flat = rules.one_slice_axis(dims, shapes)
    if flat.value is not None:  # 2D slices stored as volumes: planned on their other axes
        plan.add("one_slice_axis", flat)
        spacings, shapes = np.delete(spacings, flat.value, 1), np.delete(shapes, flat.value, 1)
        dims = 2
    prof = plan.add("profile", rules.profile(options.memory_gb, gpu_gb, dims)).value
    spacing = plan.add("target_spacing", rules.target_spacing(spacings, shapes)).value
    plan.add("resample", rules.needs_resampling(spacings, spacing))
    median = rules.resampled_shape(spacings, shapes, spacing)
    plan.add("median_resampled_shape", Decision([round(m, 1) for m in median],
                                                "the median case shape at the target spacing"))
    plan.add("dimensionality", rules.dimensionality(dims, median))
    patch = plan.add("patch_size", rules.patch_size(median, spacing, dims, prof)).value
    topo = plan.add("topology", rules.topology(patch, spacing, dims)).value
    stages = len(topo["strides"])
    feats = rules.filters(stages, prof)
    plan.add("filters", Decision(feats, f"{prof.base_filters} doubling per stage, at most "
                                        f"{prof.max_filters}"))
    plan.add("norm_layer", Decision(
        "batch", "CPU profile: batch norm over the step's crops; instance statistics of its "
                 "small deepest feature maps are noisy in a short run") if prof.cpu else
        Decision("instance", "instance norm (nnU-Net)"))
    supr = 0 if prof.cpu else max(0, stages - 2)
    plan.add("deep_supervision", Decision(
        supr, f"losses on the {supr} decoder outputs below the top, weights halving per level"
        if supr else "none: too few stages, or the CPU profile's short run, where the extra "
                     "losses slowed convergence"))
    voxels = float(np.sum(np.prod(shapes * spacings / np.asarray(spacing), axis=1)))
    batch = plan.add("batch_size", rules.batch_size(patch, topo["strides"], feats, prof,
                                                    voxels)).value
    plan.add("normalisation", rules.normalisation(
        fp.modalities, fp.intensity, float(np.median([c.nonzero_fraction for c in fp.cases]))))
    plan.add("oversampling", schedule.oversampling(patch, median))
    plan.add("augmentation", schedule.augmentation(dims, topo["kernels"][0], prof.cpu))
    plan.add("outputs", rules.outputs(fp.labels, fp.regions, fp.regions_class_order))
    plan.add("loss", rules.loss(fp.regions))
    samples = batch if prof.cpu else min(batch, 2)
    steps_per_epoch = max(1, math.ceil(training_cases * samples / batch))
    seconds = schedule.step_seconds(patch, topo["strides"], topo["kernels"], feats, batch,
                                    fp.channels, prof.cpu)
    plan.add("crops_per_case", Decision(samples, f"{samples} crops per case and epoch; "
                                                 f"{steps_per_epoch} steps per epoch"))
    count = plan.add("epochs", schedule.epochs(options.epochs, options.time_budget_min,
                                               steps_per_epoch, seconds, prof.cpu)).value
    plan.add("optimizer", schedule.optimizer(count * steps_per_epoch))
    plan.add("lr_policy", Decision({"name": "ReducePoly", "args": {"poly_power": 0.9}},
                                   "poly decay, power 0.9 (nnU-Net)"))
    plan.add("validation_interval", schedule.validation_interval(count))
    plan.add("inferer", schedule.inferer(patch, median, topo["divisors"], prof.cpu))
    return plan
