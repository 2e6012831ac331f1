"""What ``clara train --resume`` needs, written so a crash never leaves half of it.

A resume point is two files: a NumPy bundle with every model variable (weights and
random-seed states) and every optimizer variable (moments, iteration count), and
``train_state.json`` naming that bundle together with the resumable part of the
:class:`~clara_core.components.run_state.RunState` (complete epochs, the step inside
the next, the learning-rate policy's state, the loss history, the best key metric).
The bundle gets a new name each time and the JSON is replaced atomically last, so
the JSON always names a complete bundle: the same commit protocol as
``tf.train.CheckpointManager``. The file names come from the
:class:`~clara_core.mmar.run_folder.RunFolder`.
"""

from __future__ import annotations

import json
import os
import typing
import zipfile
from typing import Any

import numpy as np

from clara_core.atomic import atomic_path, atomic_write_json
from clara_core.components.run_state import RESUMABLE, RunState
from clara_core.config.jsontypes import describe, json_value_ok
from clara_core.errors import ClaraError
from clara_core.mmar.run_folder import RunFolder

#: ``train_state.json`` keys that differ from the RunState field they hold
_JSON_NAMES = {"epochs_done": "epoch"}


def save_resume_point(folder: RunFolder, model: Any, optimizer: Any, state: RunState) -> None:
    """Write the variables bundle, then ``train_state.json``, then drop older bundles."""
    ckpt_dir = folder.path
    os.makedirs(ckpt_dir, exist_ok=True)
    bundle = folder.resume_bundle(state.epochs_done, state.step)
    arrays = {f"model/{i}": np.asarray(v) for i, v in enumerate(model.variables)}
    arrays.update({f"optimizer/{i}": np.asarray(v) for i, v in enumerate(optimizer.variables)})
    with atomic_path(os.path.join(ckpt_dir, bundle)) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]
    saved = {_JSON_NAMES.get(k, k): v for k, v in state.resumable().items()}
    atomic_write_json(folder.resume_state, {**saved, "bundle": bundle})
    for name in os.listdir(ckpt_dir):
        if folder.is_resume_bundle(name) and name != bundle:
            os.remove(os.path.join(ckpt_dir, name))


def load_resume_point(folder: RunFolder, model: Any, optimizer: Any, state: RunState) -> None:
    """Restore model and optimizer variables from the last resume point in ``folder``,
    and its progress into ``state``."""
    path = folder.resume_state
    if not os.path.exists(path):
        raise ClaraError(
            f"Cannot resume: {path} does not exist. Train without --resume first, or point "
            "MMAR_CKPT_DIR at the folder of the run to continue.")
    saved = _read_state(path, folder)
    name = saved["bundle"]
    bundle = os.path.join(folder.path, name)
    if not os.path.exists(bundle):
        raise ClaraError(
            f"Cannot resume: {path} names the variables file {name!r}, which is "
            f"missing from {folder.path}. Start a new run, or fine-tune from "
            f"{os.path.basename(folder.weights('latest'))} with --set MMAR_CKPT=<that file>.")
    try:
        with np.load(bundle, allow_pickle=False) as data:
            _assign(model.variables, data, "model", bundle)
            _assign(optimizer.variables, data, "optimizer", bundle)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as exc:
        raise ClaraError(
            f"Cannot resume: the variables file {bundle} is damaged ({type(exc).__name__}: "
            f"{exc}). Start a new run without --resume, or fine-tune from "
            f"{os.path.basename(folder.weights('latest'))} with --set MMAR_CKPT=<that file>."
        ) from None
    for key in RESUMABLE:
        if _JSON_NAMES.get(key, key) in saved:
            setattr(state, key, saved[_JSON_NAMES.get(key, key)])


def _read_state(path: str, folder: RunFolder) -> dict[str, Any]:
    """``train_state.json``, checked field by field against the RunState it restores."""
    redo = (f"Start a new run without --resume, or fine-tune from "
            f"{os.path.basename(folder.weights('latest'))} with --set MMAR_CKPT=<that file>.")
    try:
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise ClaraError(f"Cannot resume: {path} is damaged ({type(exc).__name__}: {exc}). "
                         f"{redo}") from None
    if not isinstance(saved, dict) or not isinstance(saved.get("bundle"), str) \
            or not folder.is_resume_bundle(saved["bundle"]):
        raise ClaraError(f"Cannot resume: {path} is not a resume point written by clara "
                         f"train (no variables file named in it). {redo}")
    hints = typing.get_type_hints(RunState)
    for key in RESUMABLE:
        value = saved.get(_JSON_NAMES.get(key, key))
        if value is not None and not json_value_ok(value, hints[key]):
            raise ClaraError(f"Cannot resume: {path} holds {value!r} as {key!r}, where "
                             f"{describe(hints[key])} belongs. {redo}")
    return saved


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


__all__ = ["load_resume_point", "save_resume_point"]
