"""``RunFolder``: every file a training run writes, named in one place.

A run writes under ``MMAR_CKPT_DIR`` (``models`` by default, relative to the MMAR):
the weights ``model_{best,final,latest}.weights.h5``, the final model
``model_final.keras``, the resume point (``train_state.json`` and its variables
bundle ``resume-*.npz``), the metrics log ``metrics.jsonl``, TensorBoard ``logs/``,
the picture ``training.png`` and, from ``clara export``, ``saved_model/``. The
trainer, ``clara export``, ``CheckpointLoader`` and the CLI's summary all ask this
object for the names.

>>> folder = RunFolder("/runs/spleen/models")
>>> folder.weights("best")
'/runs/spleen/models/model_best.weights.h5'
>>> folder.is_resume_bundle("resume-e00003-s000000.npz"), folder.keras_model
(True, '/runs/spleen/models/model_final.keras')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clara_core.errors import ClaraError

Which = Literal["best", "final", "latest"]
WEIGHTS: tuple[Which, ...] = ("best", "final", "latest")
DEFAULT_DIR = "models"
ENV_KEY = "MMAR_CKPT_DIR"


@dataclass(frozen=True)
class RunFolder:
    """The checkpoint folder of one run and the names of everything in it."""

    path: str

    @classmethod
    def of_mmar(cls, mmar_root: str, env: Mapping[str, Any]) -> RunFolder:
        """The folder ``MMAR_CKPT_DIR`` names (absolute, or relative to the MMAR)."""
        ckpt = str(env.get(ENV_KEY) or DEFAULT_DIR)
        return cls(ckpt if os.path.isabs(ckpt) else os.path.join(mmar_root, ckpt))

    def _file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def weights(self, which: str) -> str:
        """``model_<which>.weights.h5`` (``which``: best, final or latest)."""
        if which not in WEIGHTS:
            raise ClaraError(f"unknown weights {which!r}: use one of {', '.join(WEIGHTS)}")
        return self._file(f"model_{which}.weights.h5")

    def weights_file(self, choice: str) -> str:
        """The weights a user chose: ``best``/``final``/``latest`` or a file path."""
        return self.weights(choice) if choice in WEIGHTS else choice

    def existing_weights(self) -> str | None:
        """The best weights there are (best, then final, then latest), or None."""
        return next((p for p in map(self.weights, WEIGHTS) if os.path.exists(p)), None)

    @property
    def keras_model(self) -> str:
        """``model_final.keras``: architecture and final weights, Keras layers only."""
        return self._file("model_final.keras")

    @property
    def resume_state(self) -> str:
        """``train_state.json``: the resume point's progress, naming its bundle."""
        return self._file("train_state.json")

    def resume_bundle(self, epochs_done: int, step: int) -> str:
        """The file name of a resume point's variables bundle (new for each point)."""
        return f"resume-e{epochs_done:05d}-s{step:06d}.npz"

    @staticmethod
    def is_resume_bundle(name: str) -> bool:
        return name.startswith("resume-") and name.endswith(".npz")

    @property
    def metrics_log(self) -> str:
        """``metrics.jsonl``: one JSON line per completed epoch."""
        return self._file("metrics.jsonl")

    @property
    def tensorboard(self) -> str:
        return self._file("logs")

    @property
    def picture(self) -> str:
        return self._file("training.png")

    @property
    def saved_model(self) -> str:
        """Where ``clara export`` writes the SavedModel by default."""
        return self._file("saved_model")

    def summary(self) -> str:
        """What a run left here (only files that exist), for the end of ``clara train``."""
        models = [p for p in (*map(self.weights, WEIGHTS), self.keras_model)
                  if os.path.exists(p)]
        return (f"models in {self.path}: "
                f"{', '.join(os.path.basename(p) for p in models) or 'none yet'}\n"
                f"metrics log: {self.metrics_log}; TensorBoard: tensorboard --logdir "
                f"{self.tensorboard}")

__all__ = ["WEIGHTS", "RunFolder"]
