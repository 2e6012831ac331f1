"""Stopping a run cleanly: the first Ctrl-C (SIGINT), or the SIGTERM a scheduler such
as SLURM or Kubernetes sends before it kills a job, asks for a stop at the next step
boundary, after a resume point is written; a second signal stops at once."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any


class StopRequest:
    """``with stop.catching(): ...`` then poll :attr:`requested` at step boundaries."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, log: Callable[[str], None] = print) -> None:
        self.requested = False
        self.signal: int | None = None
        self.log = log

    @property
    def exit_code(self) -> int:
        """The shell's code for the signal that stopped the run: 130 (SIGINT), 143 (SIGTERM)."""
        return 128 + int(self.signal or signal.SIGINT)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested, self.signal = True, signum
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        self.log(f"\n{name}: stopping after this step and writing a checkpoint "
                 "(a second signal stops at once, without one)")

    def stop_for_peer(self) -> None:
        """Another worker of the job was asked to stop: stop here too, as for SIGTERM."""
        self.requested, self.signal = True, signal.SIGTERM
        self.log("\nanother worker was asked to stop: stopping after this step and writing "
                 "a checkpoint")

    @contextlib.contextmanager
    def catching(self) -> Iterator[None]:
        """Handle SIGINT and SIGTERM inside the block (signals reach only the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._on_signal) for s in self.SIGNALS}
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


__all__ = ["StopRequest"]
