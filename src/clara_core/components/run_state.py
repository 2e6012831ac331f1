"""``RunState``: the one state of a training run.

The trainer keeps a single ``RunState``: handlers receive it at every event, a
resume point saves its resumable part (:data:`RESUMABLE`), and the run's result is
read off it at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: the fields a resume point saves and restores
RESUMABLE = ("epochs_done", "step", "learning_rate", "step_losses", "losses",
             "best_key_metric", "best_epoch", "lr_policy")


@dataclass
class RunState:
    """A training run as handlers see it.

    ``epoch`` (from 1) is the epoch in progress, or the one just completed;
    ``epochs_done`` counts complete epochs and ``step`` the steps done in the epoch
    in progress. ``record`` is the last completed epoch's line of metrics.jsonl
    (loss, lr, aux ops, validation metrics) and ``metrics`` the last validation's
    values. A handler may set ``stop`` to end training after the current epoch;
    ``log`` prints a line above the progress bar.

    >>> state = RunState(epochs=3, epochs_done=1)
    >>> state.epoch, state.start_epoch(), state.epoch
    (1, None, 2)
    """

    epochs: int = 1
    epochs_done: int = 0
    step: int = 0
    learning_rate: float = 0.0
    loss: float | None = None
    step_losses: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    key_metric: str | None = None
    best_key_metric: float | None = None
    best_epoch: int | None = None
    lr_policy: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    stop: bool = False
    in_epoch: bool = False
    log: Callable[[str], None] = field(default=print, repr=False, compare=False)

    @property
    def epoch(self) -> int:
        return self.epochs_done + (1 if self.in_epoch else 0)

    def start_epoch(self) -> None:
        """An epoch starts (or resumes at ``step``)."""
        self.in_epoch = True

    def complete_epoch(self, record: dict[str, Any]) -> None:
        """The epoch in progress is complete; ``record`` is its metrics line."""
        self.losses.append(float(record["loss"]))
        self.record = record
        self.epochs_done += 1
        self.step, self.step_losses, self.in_epoch = 0, [], False

    def resumable(self) -> dict[str, Any]:
        """What a resume point saves."""
        return {name: getattr(self, name) for name in RESUMABLE}


__all__ = ["RESUMABLE", "RunState"]
