"""The per-epoch record of a run: ``metrics.jsonl`` and TensorBoard scalars."""

from __future__ import annotations

import json
import os
from typing import Any

from clara_core.workflow.run_folder import RunFolder


class MetricsLog:
    """One JSON line (and one TensorBoard step) per completed epoch.

    A new run starts a new log; a resumed run keeps the lines of the epochs its
    resume point covers and drops later ones.
    """

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self.records: list[dict[str, Any]] = []
        self._writer: Any = None

    def start(self, epochs_done: int, resume: bool) -> list[dict[str, Any]]:
        """Open the log for a run that has ``epochs_done`` complete epochs."""
        path = self.folder.metrics_log
        self.records = []
        if resume and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                records = [json.loads(line) for line in f if line.strip()]
            self.records = [r for r in records if r.get("epoch", 0) <= epochs_done]
        os.makedirs(self.folder.path, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.records)
        return self.records

    def append(self, record: dict[str, Any]) -> None:
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.folder.tensorboard)
        with self._writer.as_default(step=record["epoch"]):
            for k, v in record.items():
                if isinstance(v, float):
                    tf.summary.scalar(k, v)
        self._writer.flush()
        with open(self.folder.metrics_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self.records.append(record)


def format_record(record: dict[str, Any]) -> str:
    """The log line of an epoch's record.

    >>> format_record({"epoch": 2, "loss": 0.51234, "steps": 4})
    'epoch=2 loss=0.5123 steps=4'
    """
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in record.items())


__all__ = ["MetricsLog", "format_record"]
