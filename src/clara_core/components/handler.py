"""``Handler``: reacts to workflow events (logging, early stopping, ...)."""

from __future__ import annotations

from typing import Any

from clara_core.components.base import Component


class Handler(Component):
    """Base class of handlers. Each event method does nothing unless overridden."""

    def started(self, state: Any) -> None:
        """The run has started."""

    def epoch_started(self, state: Any) -> None:
        """A training epoch starts."""

    def iteration_completed(self, state: Any) -> None:
        """A training step has completed."""

    def epoch_completed(self, state: Any) -> None:
        """A training epoch has completed (validation, if due, has run)."""

    def completed(self, state: Any) -> None:
        """The run has ended."""
