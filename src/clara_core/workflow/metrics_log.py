"""The per-epoch record of a run: ``metrics.jsonl`` and TensorBoard scalars."""

from __future__ import annotations

import json
import os
from typing import Any

from clara_core.mmar.run_folder import RunFolder


class MetricsLog:
    """One JSON line (and one TensorBoard step) per completed epoch.

    A new run starts a new log; a resumed run keeps the lines of the epochs its
    resume point covers and drops later ones.
    """

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self.records: list[dict[str, Any]] = []
        self._writer: Any = None

    def start(self, losses: list[float], resume: bool) -> str | None:
        """Open the log for a run whose complete epochs had ``losses``. A resumed run
        keeps the lines of those epochs; lines that do not read back (a damaged tail)
        are rebuilt from the resume point's losses. Returns a notice when it rebuilt."""
        path = self.folder.metrics_log
        kept: dict[int, dict[str, Any]] = {}
        damaged = 0
        if resume and os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    record = _parse(line)
                    if record is None:
                        damaged += bool(line.strip())
                    elif 1 <= record["epoch"] <= len(losses):
                        kept[record["epoch"]] = record
        rebuilt = [e for e in range(1, len(losses) + 1) if e not in kept] if resume else []
        for epoch in rebuilt:
            kept[epoch] = {"epoch": epoch, "loss": float(losses[epoch - 1])}
        self.records = [kept[e] for e in sorted(kept)]
        os.makedirs(self.folder.path, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in self.records)
        if damaged or rebuilt:
            return (f"{path}: {damaged} damaged line(s) dropped; epoch(s) "
                    f"{', '.join(map(str, rebuilt)) or 'none'} rebuilt from the resume point "
                    "(loss only)")
        return None

    def _scalars(self, step: int, values: dict[str, Any], prefix: str = "") -> None:
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.folder.tensorboard)
        with self._writer.as_default(step=step):
            for k, v in values.items():
                if isinstance(v, float):
                    tf.summary.scalar(prefix + k, v)

    def step(self, iteration: int, values: dict[str, float]) -> None:
        """TensorBoard points ``step/<name>`` at optimizer iteration ``iteration`` (the
        SDK's ``train_summary_recording_interval``); flushed with the epoch's record."""
        self._scalars(iteration, values, "step/")

    def append(self, record: dict[str, Any]) -> None:
        self._scalars(record["epoch"], record)
        self._writer.flush()
        with open(self.folder.metrics_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self.records.append(record)


def _parse(line: str) -> dict[str, Any] | None:
    """A metrics line, or None when it is not one (truncated, garbage).

    >>> _parse('{"epoch": 2, "loss": 0.5}'), _parse('{"epoch": 2, "lo'), _parse("[1]")
    ({'epoch': 2, 'loss': 0.5}, None, None)
    """
    try:
        record = json.loads(line)
    except ValueError:
        return None
    ok = isinstance(record, dict) and isinstance(record.get("epoch"), int) \
        and isinstance(record.get("loss"), int | float)
    return record if ok else None


def format_record(record: dict[str, Any]) -> str:
    """The log line of an epoch's record.

    >>> format_record({"epoch": 2, "loss": 0.51234, "steps": 4})
    'epoch=2 loss=0.5123 steps=4'
    """
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in record.items())


__all__ = ["MetricsLog", "format_record"]
