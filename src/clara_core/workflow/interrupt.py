"""Stopping a run cleanly: the first Ctrl-C (SIGINT), or the SIGTERM a scheduler such
as SLURM or Kubernetes sends before it kills a job, raises the run's
:class:`~clara_core.components.run_state.StopSignal`, which stops at the next step
boundary after a resume point is written; a second signal stops at once."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from clara_core.components.run_state import StopSignal

SIGNALS = {signal.SIGINT: StopSignal.SIGINT, signal.SIGTERM: StopSignal.SIGTERM}


@contextlib.contextmanager
def stop_on_signals(stop: StopSignal, log: Callable[[str], None] = print) -> Iterator[None]:
    """Inside the block SIGINT and SIGTERM request ``stop`` (signals reach only the
    main thread; elsewhere the block runs without handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: Any) -> None:
        if stop.at_step:
            raise KeyboardInterrupt
        stop.request(SIGNALS[signal.Signals(signum)])
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        log(f"\n{name}: stopping after this step and writing a checkpoint "
            "(a second signal stops at once, without one)")

    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


__all__ = ["stop_on_signals"]
