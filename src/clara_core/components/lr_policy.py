"""``LearningRatePolicy``: sets the learning rate at each epoch."""

from __future__ import annotations

from typing import Any

from clara_core.components.base import Component


class LearningRatePolicy(Component):
    """Base class of learning-rate policies.

    ``get_learning_rate`` returns the rate for an epoch from the config's base rate;
    ``update_metric`` feeds policies such as ReduceOnPlateau the key metric.
    """

    def get_learning_rate(self, epoch: int, base_lr: float, num_epochs: int) -> float:
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement get_learning_rate."
        )

    def update_metric(self, value: float) -> None:
        """Receive the key validation metric after each validation (ignored by default)."""

    def get_state(self) -> dict[str, Any]:
        """State that changes during training (JSON types), saved for ``--resume``."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what ``get_state`` returned."""
