"""``HandlerList``: the run's handlers (the ``handlers`` of the train and validate
sections), called event by event.

The events are the SDK's, each a named method of
:class:`~clara_core.components.handler.Handler` that receives the run's
:class:`~clara_core.components.run_state.RunState`; a handler stops training by
setting ``state.stop``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clara_core.components.run_state import RunState


class HandlerList:
    """Calls each event on every handler, in the config's order.

    >>> class Count:
    ...     n = 0
    ...     def iteration_completed(self, state): Count.n += 1
    >>> HandlerList([Count(), Count()]).iteration_completed(RunState()); Count.n
    2
    """

    def __init__(self, handlers: Iterable[Any] = ()) -> None:
        self.handlers = tuple(handlers)

    def __len__(self) -> int:
        return len(self.handlers)

    def started(self, state: RunState) -> None:
        for handler in self.handlers:
            handler.started(state)

    def epoch_started(self, state: RunState) -> None:
        for handler in self.handlers:
            handler.epoch_started(state)

    def iteration_completed(self, state: RunState) -> None:
        for handler in self.handlers:
            handler.iteration_completed(state)

    def epoch_completed(self, state: RunState) -> None:
        for handler in self.handlers:
            handler.epoch_completed(state)

    def completed(self, state: RunState) -> None:
        for handler in self.handlers:
            handler.completed(state)


__all__ = ["HandlerList"]
