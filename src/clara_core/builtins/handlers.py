"""Built-in handlers (the config's ``handlers`` section)."""

from __future__ import annotations

from clara_core.arguments import check_argument
from clara_core.components.handler import Handler
from clara_core.components.run_state import RunState


class StatsHandler(Handler):
    """The SDK's ``StatsHandler``: prints training statistics. Each epoch: loss,
    learning rate, aux-op values and validation metrics; every ``interval`` steps
    (0: never) the step loss; at the end, the best key metric and the time taken.

    >>> lines = []
    >>> state = RunState(epochs=2, log=lines.append, epochs_done=1,
    ...                  record={"epoch": 1, "loss": 0.5, "lr": 0.001, "mean_dice": 0.7})
    >>> StatsHandler().epoch_completed(state); lines[0]
    'stats: epoch 1/2 loss=0.5 lr=0.001 mean_dice=0.7'
    """

    def __init__(self, interval: int = 0) -> None:
        check_argument(type(self).__name__, "interval", interval,
                       isinstance(interval, int) and interval >= 0, "an integer >= 0")
        self.interval = interval

    def iteration_completed(self, state: RunState) -> None:
        if self.interval and state.step % self.interval == 0 and state.loss is not None:
            state.log(f"stats: epoch {state.epoch}/{state.epochs} step {state.step} "
                      f"loss={state.loss:.4g}")

    def epoch_completed(self, state: RunState) -> None:
        values = " ".join(f"{k}={v:.4g}" for k, v in state.record.items()
                          if k not in ("epoch", "steps", "seconds") and isinstance(v, float))
        state.log(f"stats: epoch {state.epoch}/{state.epochs} {values}")

    def completed(self, state: RunState) -> None:
        best = "" if state.best_key_metric is None else (
            f"; best {state.key_metric}={state.best_key_metric:.4g} at epoch {state.best_epoch}")
        state.log(f"stats: {state.epoch} epoch(s) in {state.seconds:.1f} s{best}")
