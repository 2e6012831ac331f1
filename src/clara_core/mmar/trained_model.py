"""A run's trained model: the architecture ``clara train`` saved, with chosen weights.

``clara infer``, ``clara export`` and the ``CheckpointLoader`` model loader all load
it here, so they take the same files and say the same thing when one is missing;
fine-tuning (``MMAR_CKPT``) loads saved weights into a new run's model here too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from clara_core.errors import ClaraError
from clara_core.mmar.run_folder import WEIGHTS, RunFolder


def weights_path(folder: RunFolder, weights: str = "best", choose: str = "--checkpoint") -> str:
    """The file ``weights`` names in ``folder``: ``best`` (the final weights when the run
    kept no best), ``final``, ``latest``, or a ``.weights.h5`` file. ``choose`` says
    where the user picks them (an option or an argument), for the message."""
    path = folder.weights_file(weights)
    if weights == "best" and not os.path.exists(path):
        path = folder.weights("final")
    if not os.path.exists(path):
        raise ClaraError(f"{choose} {weights}: the weights file {path} does not exist; choose "
                         f"one of {', '.join(WEIGHTS)} (the files a run keeps in "
                         f"{folder.path}) or an existing .weights.h5 file.")
    return path


def load_trained_model(folder: RunFolder, weights: str = "best",
                       choose: str = "--checkpoint") -> Any:
    """The Keras model of the run in ``folder``: ``model_final.keras`` (architecture,
    Keras layers only) with the weights :func:`weights_path` picks; a fully
    convolutional network saved with a fixed input size (an older run with
    ``dynamic_input_shape: false``) comes back with free spatial axes."""
    architecture = folder.keras_model
    if not os.path.exists(architecture):
        raise ClaraError(f"No trained model in {folder.path}: "
                         f"{os.path.basename(architecture)} is written when clara train "
                         "finishes; train (or resume) the MMAR to the end first.")
    path = weights_path(folder, weights, choose)
    import zipfile

    import keras

    retrain = ("clara train writes it again (train the MMAR to the end, or --resume a "
               "stopped run), or restore the file from a copy.")
    if not zipfile.is_zipfile(architecture):
        raise ClaraError(f"Cannot read {architecture}: it is damaged or truncated (not a "
                         f"Keras model file). {retrain}")
    try:
        model = keras.models.load_model(architecture, compile=False)
    except Exception as exc:
        raise ClaraError(f"Cannot load {architecture}: {_first_line(exc)}. {retrain}") from exc
    _check_weights_file(path, "Cannot load the model's weights from")
    try:
        model.load_weights(path)
    except Exception as exc:
        raise ClaraError(f"The weights {path} do not fit the model in {architecture} "
                         f"({_first_line(exc)}); both must come from the same run, or "
                         f"{choose} names other weights.") from exc
    from clara_core.mmar.model_shapes import free_spatial_axes

    return free_spatial_axes(model)[0]


def load_pretrained(model: Any, path: str, log: Callable[[str], None] = print) -> None:
    """Fine-tune: load the weights ``MMAR_CKPT`` names (a ``.weights.h5`` file or a run
    folder, whose best, final or latest weights are taken)."""
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
    _check_weights_file(path, "Cannot fine-tune from")
    try:
        model.load_weights(path)
    except Exception as exc:
        raise ClaraError(
            f"Cannot fine-tune from {path}: its weights do not fit the model built from this "
            f"config ({type(exc).__name__}: {exc}). Use the same model name and arguments "
            "as the run that wrote it.") from exc
    log(f"fine-tuning from {path}")


def _check_weights_file(path: str, action: str) -> None:
    """Refuse a weights file that HDF5 cannot open (damaged, truncated or another format)."""
    import h5py

    try:
        with h5py.File(path, "r"):
            pass
    except OSError as exc:
        raise ClaraError(
            f"{action} {path}: it is not a readable weights file, damaged, truncated or of "
            f"another format ({_first_line(exc)}). Give a .weights.h5 file written by clara "
            "train, such as model_best.weights.h5 of a finished run.") from None


def _first_line(exc: BaseException) -> str:
    line = next((s.strip() for s in str(exc).splitlines() if s.strip()), type(exc).__name__)
    return line if len(line) < 300 else line[:297] + "..."


__all__ = ["load_pretrained", "load_trained_model", "weights_path"]
