"""``Handler``: reacts to workflow events (logging, early stopping, ...)."""

from __future__ import annotations

from clara_core.components.base import Component
from clara_core.components.run_state import RunState


class Handler(Component):
    """Base class of handlers. Each event method gets the run's
    :class:`~clara_core.components.run_state.RunState` and does nothing unless overridden."""

    def started(self, state: RunState) -> None:
        """The run has started."""

    def epoch_started(self, state: RunState) -> None:
        """A training epoch starts."""

    def iteration_completed(self, state: RunState) -> None:
        """A training step has completed."""

    def epoch_completed(self, state: RunState) -> None:
        """A training epoch has completed (validation, if due, has run)."""

    def completed(self, state: RunState) -> None:
        """The run has ended."""
