"""``Checkpointer``: what a run writes into its run folder, and when.

After each epoch: the latest weights and a resume point; after a validation that
improved the key metric: the best weights; at the end: the final weights, the
``.keras`` model and the picture. Each write first checks the disk has room (see
:func:`ensure_space`) and goes through a temporary
file, so the last complete checkpoint survives a full disk or a kill.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core.atomic import atomic_write
from clara_core.components.run_state import RunState
from clara_core.mmar.run_folder import RunFolder
from clara_core.workflow.export import save_model_atomic
from clara_core.workflow.report import SliceExample, write_report_png
from clara_core.workflow.resume_point import save_resume_point


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


class Checkpointer:
    """Writes the checkpoints of ``model`` and ``optimizer`` into ``folder``."""

    def __init__(self, folder: RunFolder, model: Any, optimizer: Any) -> None:
        self.folder, self.model, self.optimizer = folder, model, optimizer
        model_bytes = sum(np.asarray(v).nbytes for v in model.variables)
        optimizer_bytes = sum(np.asarray(v).nbytes for v in optimizer.variables)
        # best and latest weights and a resume bundle at once, with a margin
        self.needed = 3 * model_bytes + optimizer_bytes + 16 * 2**20

    def _room(self) -> None:
        ensure_space(self.folder.path, self.needed)

    def epoch(self, state: RunState) -> list[tuple[str, str]]:
        """The latest weights, then the resume point that covers the epoch; returns
        ``(path, kind)`` of each file written."""
        self._room()
        save_weights_atomic(self.model, self.folder.weights("latest"))
        return [(self.folder.weights("latest"), "latest"), (self.resume_point(state), "resume")]

    def resume_point(self, state: RunState) -> str:
        """A resume point (also mid-epoch, when a run is stopped); returns its state file."""
        self._room()
        save_resume_point(self.folder, self.model, self.optimizer, state)
        return self.folder.resume_state

    def best(self) -> str:
        """The best weights; returns their file."""
        self._room()
        save_weights_atomic(self.model, self.folder.weights("best"))
        return self.folder.weights("best")

    def final(self, records: Sequence[dict[str, Any]], example: SliceExample | None,
              key_metric: str | None) -> str:
        """The final weights and ``.keras`` model, and the picture; returns its path."""
        self._room()
        save_weights_atomic(self.model, self.folder.weights("final"))
        save_model_atomic(self.model, self.folder.keras_model)
        return write_report_png(self.folder.picture, records, example, key_metric)


__all__ = ["Checkpointer", "ensure_space", "save_weights_atomic"]
