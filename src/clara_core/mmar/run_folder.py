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

import contextlib
import json
import os
import socket
from collections.abc import Iterator, Mapping
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
    def plugin_dir(self) -> str:
        """``plugins/``: where plugins keep this run's files of their own (a tracker's
        run id, so that a resumed run continues it)."""
        return self._file("plugins")

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

    def exported(self, fmt: str) -> str:
        """Where ``clara export --format fmt`` writes by default."""
        return {"onnx": self._file("model.onnx"),
                "keras": self._file("model_export.keras")}.get(fmt, self.saved_model)

    @property
    def lock_file(self) -> str:
        """``.clara-run.lock``: held by the one ``clara train`` writing here."""
        return self._file(".clara-run.lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run lock for the block; a second run on this folder is refused with
        the holder's process id and host. The operating system releases the lock when
        its process dies, so a killed run leaves no stale lock."""
        import fcntl

        os.makedirs(self.path, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                raise ClaraError(
                    f"Another clara train ({holder}) is writing to {self.path}. Wait for it "
                    "to finish, stop it, or give this run its own folder with --set "
                    "MMAR_CKPT_DIR=...") from None
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
                     .encode())
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def remove_temporaries(self) -> list[str]:
        """Remove the ``.tmp-*`` files an interrupted write left here (under the lock)."""
        removed = []
        for name in os.listdir(self.path) if os.path.isdir(self.path) else []:
            path = self._file(name)
            if name.startswith(".tmp-") and os.path.isfile(path):
                os.remove(path)
                removed.append(name)
        return removed

    def summary(self) -> str:
        """What a run left here (only files that exist), for the end of ``clara train``."""
        models = [p for p in (*map(self.weights, WEIGHTS), self.keras_model)
                  if os.path.exists(p)]
        return (f"models in {self.path}: "
                f"{', '.join(os.path.basename(p) for p in models) or 'none yet'}\n"
                f"metrics log: {self.metrics_log}; TensorBoard: tensorboard --logdir "
                f"{self.tensorboard}")

def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        holder = json.loads(os.read(fd, 4096) or b"{}")
        return f"process {holder['pid']} on {holder['host']}"
    except (ValueError, KeyError, OSError):
        return "another process"


__all__ = ["WEIGHTS", "RunFolder"]
