"""Model files: the trained network as ``.keras`` and as a TensorFlow SavedModel.

``clara train`` ends by saving ``model_final.keras`` (architecture and weights, Keras
layers only, so ``keras.models.load_model`` reloads it without clara).
``export_saved_model`` loads that architecture with the chosen weights (best on the
key metric by default) and writes a SavedModel whose ``serve`` signature plain
TensorFlow loads, without Keras or clara: ``tf.saved_model.load(path).serve(x)``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from clara_core.errors import ClaraError
from clara_core.workflow.checkpoints import atomic_save
from clara_core.workflow.run_folder import WEIGHTS, RunFolder


def save_model_atomic(model: Any, path: str) -> None:
    """``model.save`` to a temporary ``.keras`` file beside ``path``, then rename."""
    atomic_save(model.save, path)


def export_saved_model(folder: RunFolder, weights: str = "best",
                       output: str | None = None, force: bool = False) -> str:
    """Write a SavedModel of the run in ``folder``; return its folder. An existing
    non-empty target is refused unless ``force``, which replaces it atomically."""
    import keras

    output = output or folder.saved_model
    if os.path.exists(output) and not force and (
            not os.path.isdir(output) or os.listdir(output)):
        raise ClaraError(f"Cannot export to {output}: it exists and is not empty, and clara "
                         "never overwrites files it was not asked to. Choose another folder "
                         "with -o, or add --force to replace it.")

    architecture = folder.keras_model
    if not os.path.exists(architecture):
        raise ClaraError(f"Cannot export: {architecture} does not exist. It is written when "
                         "clara train finishes; train (or resume) the MMAR to the end first.")
    weights_file = folder.weights_file(weights)
    if not os.path.exists(weights_file):
        raise ClaraError(f"Cannot export: weights file {weights_file} does not exist. Use "
                         f"--weights with one of {', '.join(WEIGHTS)} or a .weights.h5 file.")
    model = keras.models.load_model(architecture, compile=False)
    model.load_weights(weights_file)
    parent = os.path.dirname(os.path.abspath(output))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=".tmp-export-")
    try:
        model.export(tmp, format="tf_saved_model", verbose=False)
        replace_atomic(tmp, output)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder
        raise
    return output


def replace_atomic(new: str, target: str) -> None:
    """Put the finished folder ``new`` at ``target``: a reader sees the old target or
    the new one. An old target (``--force``) is moved aside first, then removed."""
    if not os.path.lexists(target):
        os.replace(new, target)
        return
    aside = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(target)), prefix=".tmp-old-")
    old = os.path.join(aside, "old")
    os.replace(target, old)
    os.replace(new, target)
    if os.path.isdir(old) and not os.path.islink(old):
        shutil.rmtree(aside)
    else:
        os.remove(old)
        os.rmdir(aside)


__all__ = ["export_saved_model", "save_model_atomic"]
