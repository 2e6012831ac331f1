"""``RunState``: what handlers see at each workflow event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunState:
    """The run as handlers see it. ``epoch`` counts from 1 and is the epoch in progress
    (or just completed); ``record`` is the last completed epoch's line of
    metrics.jsonl (loss, lr, aux ops, validation metrics). A handler may set
    ``stop`` to end training after the current epoch; ``log`` prints a line above the
    progress bar.
    """

    epochs: int
    log: Callable[[str], None] = print
    epoch: int = 0
    step: int = 0
    loss: float | None = None
    learning_rate: float = 0.0
    record: dict[str, Any] = field(default_factory=dict)
    key_metric: str | None = None
    best_key_metric: float | None = None
    best_epoch: int | None = None
    seconds: float = 0.0
    stop: bool = False


__all__ = ["RunState"]
