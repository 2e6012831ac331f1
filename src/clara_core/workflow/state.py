"""What ``clara train --resume`` needs, written so a crash never leaves half of it.

A resume point is two files: a NumPy bundle with every model variable (weights and
random-seed states) and every optimizer variable (moments, iteration count), and
``train_state.json`` naming that bundle together with the epoch, the step inside it,
the learning-rate policy's state and the loss history. The bundle gets a new name
each time and the JSON is replaced atomically last, so the JSON always names a
complete bundle: the same commit protocol as ``tf.train.CheckpointManager``.

>>> state = TrainState(epoch=3, learning_rate=0.01)
>>> TrainState.from_json(state.to_json()) == state
True
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from clara_core.errors import ClaraError
from clara_core.workflow.checkpoints import atomic_write_json

STATE_FILE = "train_state.json"


@dataclass
class TrainState:
    """Progress of a training run: ``epoch`` epochs complete, plus ``step`` steps of the next."""

    epoch: int = 0
    step: int = 0
    learning_rate: float = 0.0
    best_key_metric: float | None = None
    losses: list[float] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    lr_policy: dict[str, Any] = field(default_factory=dict)
    bundle: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def save_resume_point(ckpt_dir: str, model: Any, optimizer: Any, state: TrainState) -> None:
    """Write the variables bundle, then ``train_state.json``, then drop older bundles."""
    os.makedirs(ckpt_dir, exist_ok=True)
    state.bundle = f"resume-e{state.epoch:05d}-s{state.step:06d}.npz"
    arrays = {f"model/{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer/{i}": np.asarray(v) for i, v in enumerate(optimizer.variables)})
    fd, tmp = tempfile.mkstemp(dir=ckpt_dir, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, os.path.join(ckpt_dir, state.bundle))
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    atomic_write_json(os.path.join(ckpt_dir, STATE_FILE), state.to_json())
    for name in os.listdir(ckpt_dir):
        if name.startswith("resume-") and name.endswith(".npz") and name != state.bundle:
            os.remove(os.path.join(ckpt_dir, name))


def load_resume_point(ckpt_dir: str, model: Any, optimizer: Any) -> TrainState:
    """Restore model and optimizer variables from the last resume point in ``ckpt_dir``."""
    path = os.path.join(ckpt_dir, STATE_FILE)
    if not os.path.exists(path):
        raise ClaraError(
            f"Cannot resume: {path} does not exist. Train without --resume first, or point "
            "MMAR_CKPT_DIR at the folder of the run to continue.")
    with open(path) as f:
        state = TrainState.from_json(json.load(f))
    bundle = os.path.join(ckpt_dir, state.bundle)
    if not state.bundle or not os.path.exists(bundle):
        raise ClaraError(
            f"Cannot resume: {path} names the variables file {state.bundle!r}, which is "
            f"missing from {ckpt_dir}. Start a new run, or fine-tune from "
            "model_latest.weights.h5 with --set MMAR_CKPT=<that file>.")
    with np.load(bundle) as data:
        _assign(model.variables, data, "model", bundle)
        _assign(optimizer.variables, data, "optimizer", bundle)
    return state


def _assign(variables: list[Any], data: Any, prefix: str, bundle: str) -> None:
    saved = sum(1 for k in data.files if k.startswith(prefix + "/"))
    if saved != len(variables):
        raise ClaraError(
            f"Cannot resume from {bundle}: it holds {saved} {prefix} variables but the "
            f"{prefix} built from this config has {len(variables)}. The config changed since "
            "that run; resume with the same config, or fine-tune with --set MMAR_CKPT=...")
    for i, var in enumerate(variables):
        value = data[f"{prefix}/{i}"]
        if tuple(value.shape) != tuple(var.shape):
            raise ClaraError(
                f"Cannot resume from {bundle}: {prefix} variable {getattr(var, 'path', i)} "
                f"has shape {tuple(var.shape)} in this config but {tuple(value.shape)} in the "
                "checkpoint. Resume with the config that wrote it.")
        var.assign(value)


__all__ = ["STATE_FILE", "TrainState", "load_resume_point", "save_resume_point"]
