"""A run's trained model: the architecture ``clara train`` saved, with chosen weights.

``clara infer``, ``clara export`` and the ``CheckpointLoader`` model loader all load
it here, so they take the same files and say the same thing when one is missing.
"""

from __future__ import annotations

import os
from typing import Any

from clara_core.errors import ClaraError
from clara_core.workflow.run_folder import WEIGHTS, RunFolder


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
    Keras layers only) with the weights :func:`weights_path` picks."""
    architecture = folder.keras_model
    if not os.path.exists(architecture):
        raise ClaraError(f"No trained model in {folder.path}: "
                         f"{os.path.basename(architecture)} is written when clara train "
                         "finishes; train (or resume) the MMAR to the end first.")
    path = weights_path(folder, weights, choose)
    import keras

    model = keras.models.load_model(architecture, compile=False)
    model.load_weights(path)
    return model


__all__ = ["load_trained_model", "weights_path"]
