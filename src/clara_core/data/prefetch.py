"""Bounded run-ahead: an ordered parallel map with a window, and a prefetching thread.

``ThreadPoolExecutor.map`` submits every task at once, so workers run as far
ahead of the consumer as they can and hold a whole epoch of crops in memory.
``ordered_map`` keeps at most ``window`` tasks in flight; ``prefetched`` runs an
iterator in a background thread at most ``depth`` items ahead.

>>> from concurrent.futures import ThreadPoolExecutor
>>> with ThreadPoolExecutor(2) as pool:
...     list(ordered_map(pool, lambda x: x * x, range(5), window=2))
[0, 1, 4, 9, 16]
>>> list(prefetched(iter(range(3)), depth=1))
[0, 1, 2]
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


def ordered_map(pool: Executor, fn: Callable[[T], R], items: Iterable[T],
                window: int) -> Iterator[R]:
    """``pool.map(fn, items)`` in order, with at most ``window`` tasks submitted ahead."""
    pending: deque[Future[R]] = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def prefetched(source: Iterator[T], depth: int) -> Iterator[T]:
    """Items of ``source``, produced by a background thread up to ``depth`` ahead.
    Exceptions in the producer are raised here, at the item where they occurred."""
    if depth <= 0:
        yield from source
        return
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer
            box.put(exc)

    thread = threading.Thread(target=produce, daemon=True, name="clara-prefetch")
    thread.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


__all__ = ["ordered_map", "prefetched"]
