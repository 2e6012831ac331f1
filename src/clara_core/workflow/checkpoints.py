"""Checkpoint files: written atomically (:mod:`clara_core.atomic`), loaded with clear errors."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from typing import Any

from clara_core.atomic import atomic_write


def ensure_space(folder: str, needed: int) -> None:
    """Raise ``ENOSPC`` before writing when ``folder``'s disk has less than ``needed``
    bytes free: HDF5 (Keras weights) fails badly on a full disk, taking the process
    down mid-write, so checkpoints check first and the last good ones stay intact."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(errno.ENOSPC, f"No space left: {free:,} bytes free, a checkpoint "
                      f"needs about {needed:,}", folder)


def save_weights_atomic(model: Any, path: str) -> None:
    """``model.save_weights`` to a temporary ``.weights.h5`` file, then rename over ``path``."""
    atomic_write(path, model.save_weights)


def load_pretrained(model: Any, path: str, log: Callable[[str], None] = print) -> None:
    """Fine-tune: load the weights ``MMAR_CKPT`` names (a ``.weights.h5`` file or a run
    folder, whose best, final or latest weights are taken)."""
    from clara_core.errors import ClaraError
    from clara_core.workflow.run_folder import RunFolder

    if os.path.isdir(path):
        folder = RunFolder(path)
        path = folder.existing_weights() or folder.weights("best")
    if not os.path.exists(path) and any(os.path.exists(path + ext)
                                        for ext in (".index", ".meta")):
        raise ClaraError(
            f"MMAR_CKPT points at {path}, a TensorFlow 1 checkpoint written by the SDK "
            "(model.ckpt.index, .data, .meta): its graph variables have no mapping onto a "
            "Keras model. Train once with clara train and fine-tune from that run's "
            "models/model_best.weights.h5, or leave MMAR_CKPT unset to start afresh.")
    if not os.path.exists(path):
        raise ClaraError(
            f"MMAR_CKPT points at {path}, which does not exist. Give a .weights.h5 file "
            "written by clara train (for example models/model_best.weights.h5) or its folder.")
    import h5py

    if not h5py.is_hdf5(path):
        raise ClaraError(
            f"Cannot fine-tune from {path}: it is not a weights file (damaged, truncated or "
            "of another format). Give a .weights.h5 file written by clara train, such as "
            "model_best.weights.h5 of a finished run.")
    try:
        model.load_weights(path)
    except Exception as exc:
        raise ClaraError(
            f"Cannot fine-tune from {path}: its weights do not fit the model built from this "
            f"config ({type(exc).__name__}: {exc}). Use the same model name and arguments "
            "as the run that wrote it.") from exc
    log(f"fine-tuning from {path}")
