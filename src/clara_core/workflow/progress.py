"""The training progress bar: epoch, loss, throughput and the run's ETA (``rich``).

One bar spans the whole run. The number of steps per epoch is known once the first
epoch has run (crops may emit several samples per case), so the first epoch shows a
pulsing bar and the ETA appears from the second. The bar goes to stderr and only
when it is a terminal; the per-epoch log lines are the record for files and CI.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


def say(message: str) -> None:
    """Print a line at once (a log file or pipe sees it before the run ends)."""
    print(message, flush=True)


class TrainProgress:
    """``with TrainProgress(epochs, start_epoch) as bar: bar.step(loss, n)`` ...

    ``log`` prints the run's lines when there is no bar (:meth:`log`)."""

    def __init__(self, epochs: int, start_epoch: int = 0, enabled: bool | None = None,
                 log: Callable[[str], None] = say) -> None:
        self.epochs = epochs
        self._print_line = log
        self.epoch = start_epoch
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._steps_per_epoch: int | None = None
        self._epoch_steps = 0
        self._loss_sum = 0.0
        self._samples = 0
        self._t0 = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> TrainProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("loss {task.fields[loss]:.4f}"),
                TextColumn("{task.fields[rate]:.1f} samples/s"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                console=Console(stderr=True))
            self._bar.start()
            self._task = self._bar.add_task(self._description(), total=None, loss=0.0,
                                            rate=0.0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _description(self) -> str:
        return f"epoch {self.epoch + 1}/{self.epochs}"

    def start_epoch(self, epoch: int) -> None:
        self.epoch, self._epoch_steps, self._loss_sum = epoch, 0, 0.0
        self._samples, self._t0 = 0, time.perf_counter()
        if self._bar is not None:
            self._bar.update(self._task, description=self._description())

    def step(self, loss: float, samples: int) -> None:
        self._epoch_steps += 1
        self._loss_sum += loss
        self._samples += samples
        if self._bar is not None:
            rate = self._samples / max(time.perf_counter() - self._t0, 1e-9)
            self._bar.update(self._task, advance=1, loss=self._loss_sum / self._epoch_steps,
                             rate=rate)

    def end_epoch(self) -> None:
        if self._steps_per_epoch is None and self._epoch_steps:
            self._steps_per_epoch = self._epoch_steps
            if self._bar is not None:
                remaining = (self.epochs - self.epoch - 1) * self._epoch_steps
                done = self._bar.tasks[0].completed
                self._bar.update(self._task, total=done + remaining)

    def log(self, message: str) -> None:
        """Print a line above the bar (through the run's log when there is no bar)."""
        if self._bar is not None:
            self._bar.console.print(message, markup=False, highlight=False)
        else:
            self._print_line(message)


__all__ = ["TrainProgress", "say"]
