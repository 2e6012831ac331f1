"""``RunState``: the one state of a training run, and its one stop signal;
``RunInfo``: what every run (train, validate, infer) tells its event hooks.

The trainer keeps a single ``RunState``: handlers receive it at every event, a
resume point saves its resumable part (:data:`RESUMABLE`), and the run's result is
read off it at the end. Whoever asks a run to stop asks its :class:`StopSignal`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: the fields a resume point saves and restores
RESUMABLE = ("epochs_done", "step", "learning_rate", "step_losses", "losses",
             "best_key_metric", "best_epoch", "lr_policy")


class StopSignal:
    """The one stop signal of a run, with the reasons it was raised for.

    - ``"handler"``: a handler set ``state.stop``; training ends after the current
      epoch, normally (the final model is written), as the SDK defines it.
    - ``"SIGINT"`` / ``"SIGTERM"``: Ctrl-C, or a scheduler's notice; training stops
      at the next step, after a resume point (exit codes 130 / 143).
    - ``"peer"``: another worker of the job got one; every worker stops at the same
      step (exit code 143, as for SIGTERM).
    - ``"hook"``: a plugin's run-event hook raised; training stops at the next step
      after a resume point, as for Ctrl-C (exit code 2, with the plugin's error).

    >>> stop = StopSignal()
    >>> stop.request(StopSignal.SIGTERM)
    >>> stop.requested, stop.at_step, stop.after_epoch, stop.exit_code
    (True, True, False, 143)
    """

    HANDLER, SIGINT, SIGTERM, PEER, HOOK = "handler", "SIGINT", "SIGTERM", "peer", "hook"
    EXIT_CODES = {SIGINT: 130, SIGTERM: 143, PEER: 143, HOOK: 2}

    def __init__(self) -> None:
        self.reasons: list[str] = []  # in the order asked

    def request(self, reason: str) -> None:
        if reason not in (self.HANDLER, *self.EXIT_CODES):
            raise ValueError(f"unknown stop reason {reason!r}")
        if reason not in self.reasons:
            self.reasons.append(reason)

    def withdraw(self, reason: str) -> None:
        if reason in self.reasons:
            self.reasons.remove(reason)

    @property
    def requested(self) -> bool:
        return bool(self.reasons)

    @property
    def at_step(self) -> bool:
        """Stop at the next step boundary (a signal, here or on a peer)."""
        return any(r != self.HANDLER for r in self.reasons)

    @property
    def after_epoch(self) -> bool:
        """A handler asked to end training after the current epoch."""
        return self.HANDLER in self.reasons

    @property
    def exit_code(self) -> int:
        """The shell's code of the first signal (0 when only a handler asked)."""
        return next((self.EXIT_CODES[r] for r in self.reasons if r != self.HANDLER), 0)

    def __repr__(self) -> str:
        return f"StopSignal({self.reasons!r})"


@dataclass(kw_only=True)
class RunInfo:
    """A run as its event hooks see it (:mod:`clara_core.hookspecs`): which command, on
    which MMAR, writing where, with which trackers; ``log`` prints a line (above the
    progress bar while it shows). ``plugin_dir`` is the run folder's place for a
    plugin's own files (a tracker's run id, so that a resumed run continues it).

    >>> run = RunInfo(command="validate", mmar="/data/spleen", tracking=("mlflow",))
    >>> run.command, run.tracks("mlflow"), run.tracks("wandb")
    ('validate', True, False)
    """

    command: str = "train"
    mmar: str = ""
    config_file: str = ""
    run_folder: str = ""
    plugin_dir: str = ""
    tracking: tuple[str, ...] = ()
    resumed: bool = False
    log: Callable[[str], None] = field(default=print, repr=False, compare=False)

    def tracks(self, tracker: str) -> bool:
        """Whether this run asked for ``tracker`` (``--tracking`` or the setting)."""
        return tracker in self.tracking


@dataclass
class RunState(RunInfo):
    """A training run as handlers see it.

    ``epoch`` (from 1) is the epoch in progress, or the one just completed;
    ``epochs_done`` counts complete epochs and ``step`` the steps done in the epoch
    in progress. ``record`` is the last completed epoch's line of metrics.jsonl
    (loss, lr, aux ops, validation metrics) and ``metrics`` the last validation's
    values. A handler may set ``stop`` to end training after the current epoch;
    ``log`` prints a line (above the progress bar while it shows).

    >>> state = RunState(epochs=3, epochs_done=1)
    >>> state.epoch, state.start_epoch(), state.epoch
    (1, None, 2)
    >>> state.stop = True
    >>> state.stop_signal
    StopSignal(['handler'])
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
    in_epoch: bool = False
    stop_signal: StopSignal = field(default_factory=StopSignal, repr=False, compare=False)

    @property
    def epoch(self) -> int:
        return self.epochs_done + (1 if self.in_epoch else 0)

    @property
    def stop(self) -> bool:
        """The handlers' switch on :attr:`stop_signal`: True ends training after the
        current epoch; False withdraws a handler's request (never a signal's)."""
        return self.stop_signal.after_epoch

    @stop.setter
    def stop(self, value: bool) -> None:
        if value:
            self.stop_signal.request(StopSignal.HANDLER)
        else:
            self.stop_signal.withdraw(StopSignal.HANDLER)

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


__all__ = ["RESUMABLE", "RunInfo", "RunState", "StopSignal"]
