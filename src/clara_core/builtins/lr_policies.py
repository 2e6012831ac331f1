"""Built-in learning-rate policies with the SDK's names, evaluated once per epoch."""

from __future__ import annotations

import math
from typing import Any

from clara_core.arguments import check_argument as _check
from clara_core.components.lr_policy import LearningRatePolicy


class ReducePoly(LearningRatePolicy):
    """Polynomial decay: ``lr * (1 - epoch / epochs) ** poly_power``.

    >>> ReducePoly(poly_power=1.0).get_learning_rate(5, 1.0, 10)
    0.5
    """

    def __init__(self, poly_power: float = 0.9) -> None:
        _check("ReducePoly", "poly_power", poly_power, poly_power > 0, "a float > 0")
        self.poly_power = poly_power

    def get_learning_rate(self, epoch: int, base_lr: float, num_epochs: int) -> float:
        return float(base_lr * (1.0 - min(epoch, num_epochs) / max(num_epochs, 1)) ** self.poly_power)


class DecayOnStep(LearningRatePolicy):
    """Multiply the rate by ``decay_ratio`` every ``decay_freq`` epochs.

    >>> DecayOnStep(decay_ratio=0.5, decay_freq=2).get_learning_rate(5, 1.0, 10)
    0.25
    """

    def __init__(self, decay_ratio: float = 0.1, decay_freq: int = 50) -> None:
        _check("DecayOnStep", "decay_ratio", decay_ratio, 0 < decay_ratio <= 1,
               "a float in (0, 1]")
        _check("DecayOnStep", "decay_freq", decay_freq, decay_freq >= 1, "an integer >= 1")
        self.decay_ratio, self.decay_freq = decay_ratio, decay_freq

    def get_learning_rate(self, epoch: int, base_lr: float, num_epochs: int) -> float:
        return base_lr * self.decay_ratio ** (epoch // self.decay_freq)


class ReduceCosine(LearningRatePolicy):
    """Cosine annealing from the base rate to ``min_lr`` over the run: the rate at
    epoch ``e`` of ``E`` is ``min_lr + rate * (base - min_lr) * (1 + cos(pi * e / E))``.
    The SDK's default ``rate=0.5`` starts at the base rate and ends at ``min_lr``.

    >>> round(ReduceCosine().get_learning_rate(5, 1.0, 10), 6)
    0.5
    >>> round(ReduceCosine(rate=0.25).get_learning_rate(0, 1.0, 10), 6)
    0.5
    """

    def __init__(self, rate: float = 0.5, min_lr: float = 0.0) -> None:
        _check("ReduceCosine", "rate", rate, 0 < rate <= 0.5, "a float in (0, 0.5]")
        _check("ReduceCosine", "min_lr", min_lr, min_lr >= 0, "a float >= 0")
        self.rate, self.min_lr = rate, min_lr

    def get_learning_rate(self, epoch: int, base_lr: float, num_epochs: int) -> float:
        t = min(epoch, num_epochs) / max(num_epochs, 1)
        return self.min_lr + self.rate * (base_lr - self.min_lr) * (1 + math.cos(math.pi * t))


class ReduceOnPlateau(LearningRatePolicy):
    """Multiply the rate by ``factor`` when the key metric has not improved for
    ``patience`` validations (higher is better unless ``mode="min"``).

    >>> p = ReduceOnPlateau(factor=0.5, patience=1)
    >>> for v in (0.5, 0.6, 0.6, 0.6): p.update_metric(v)
    >>> p.get_learning_rate(4, 1.0, 10)
    0.5
    """

    sdk_aliases = {"plateau_count_trigger": "patience", "reduction_rate": "factor"}

    def __init__(self, factor: float = 0.1, patience: int = 10, min_lr: float = 0.0,
                 mode: str = "max") -> None:
        _check("ReduceOnPlateau", "factor", factor, 0 < factor < 1, "a float in (0, 1)")
        _check("ReduceOnPlateau", "patience", patience, patience >= 0, "an integer >= 0")
        _check("ReduceOnPlateau", "mode", mode, mode in ("max", "min"), "'max' or 'min'")
        self.factor, self.patience, self.min_lr, self.mode = factor, patience, min_lr, mode
        self._best: float | None = None
        self._waited = 0
        self._scale = 1.0

    def update_metric(self, value: float) -> None:
        better = self._best is None or (value > self._best if self.mode == "max"
                                        else value < self._best)
        if better:
            self._best, self._waited = value, 0
            return
        self._waited += 1
        if self._waited > self.patience:
            self._scale *= self.factor
            self._waited = 0

    def get_learning_rate(self, epoch: int, base_lr: float, num_epochs: int) -> float:
        return max(base_lr * self._scale, self.min_lr)

    def get_state(self) -> dict[str, Any]:
        return {"best": self._best, "waited": self._waited, "scale": self._scale}

    def set_state(self, state: dict[str, Any]) -> None:
        self._best, self._waited, self._scale = state["best"], state["waited"], state["scale"]
