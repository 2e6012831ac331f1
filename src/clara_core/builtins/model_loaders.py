"""Model loaders of validation configs (``model_loader``): ``CheckpointLoader`` and the
SDK's ``FrozenGraphModelLoader``, mapped to the exported SavedModel."""

from __future__ import annotations

import os
from typing import Any

from clara_core.arguments import check_argument
from clara_core.components.build_ctx import BuildContext
from clara_core.components.model_loader import ModelLoader
from clara_core.errors import ClaraError
from clara_core.mmar.run_folder import WEIGHTS, RunFolder
from clara_core.mmar.trained_model import load_trained_model


def _in_mmar(build_ctx: Any, path: str) -> str:
    root = os.getcwd() if build_ctx is None else \
        build_ctx.get(BuildContext.KEY_MMAR_ROOT, os.getcwd())
    return path if os.path.isabs(path) else os.path.join(root, path)


_TF1_NODES = {
    "input_node_names": "TF1 graph tensor names; a Keras model knows its inputs",
    "output_node_names": "TF1 graph tensor names; a Keras model knows its outputs",
    "infer_in_training_mode": "the model runs in inference mode (batch statistics frozen)",
}


class CheckpointLoader(ModelLoader):
    """The trained model in ``checkpoint_dir`` (an MMAR's ``models``): the architecture
    of ``model_final.keras`` with the weights ``checkpoint`` names: ``best`` (by the key
    metric; the final weights when there is no best), ``final`` or ``latest``."""

    no_effect_args = {**_TF1_NODES, "checkpoint_file_prefix":
                      "clara's run folder names its files (model_best.weights.h5, ...)"}

    def __init__(self, checkpoint_dir: str = "models", checkpoint: str = "best") -> None:
        check_argument(type(self).__name__, "checkpoint", checkpoint, checkpoint in WEIGHTS,
                       '"best", "final" or "latest"')
        self.checkpoint_dir, self.checkpoint = checkpoint_dir, checkpoint

    def load(self, build_ctx: Any) -> Any:
        folder = RunFolder(_in_mmar(build_ctx, self.checkpoint_dir))
        return load_trained_model(folder, self.checkpoint, choose="CheckpointLoader checkpoint")


class FrozenGraphModelLoader(ModelLoader):
    """The SDK's loader of TF1 frozen graphs (``.pb``, TensorRT ``.trt.pb``). Those do not
    exist in TensorFlow 2; its equivalent is the SavedModel ``clara export`` writes, which
    this loader takes from ``saved_model`` beside ``model_file_path`` (or from the path
    itself when it is a SavedModel folder)."""

    no_effect_args = _TF1_NODES

    def __init__(self, model_file_path: str) -> None:
        self.model_file_path = model_file_path

    def load(self, build_ctx: Any) -> Any:
        import tensorflow as tf

        path = _in_mmar(build_ctx, self.model_file_path)
        candidates = [path, RunFolder(os.path.dirname(path)).saved_model]
        for folder in candidates:
            if os.path.isfile(os.path.join(folder, "saved_model.pb")):
                loaded = tf.saved_model.load(folder)
                return lambda x, training=False: loaded.serve(tf.convert_to_tensor(x))
        raise ClaraError(
            f"FrozenGraphModelLoader: {self.model_file_path} names a TF1 frozen graph, which "
            "TensorFlow 2 cannot run. Export the trained model as a SavedModel with `clara "
            f"export -m MMAR` (it writes {candidates[1]}), which this loader then uses, or "
            'use {"name": "CheckpointLoader", "args": {"checkpoint_dir": "{MMAR_CKPT_DIR}"}}.')
