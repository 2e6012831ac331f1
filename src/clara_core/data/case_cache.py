"""``CaseCache``: each case's deterministic prefix output, computed once and kept.

A pipeline gives it ``load(index)``, which runs the deterministic prefix of the chain
on one case (and raises :class:`~clara_core.data.chain.CaseError` for a bad one). The
cache keeps the result in memory (arrays made read-only: a random transform that
writes into its input fails loudly instead of corrupting the cache), on disk through
a :class:`~clara_core.data.cache.DiskStore`, or both; a bad case stops the run, or is
skipped and listed with ``skip_bad_cases``. A smart cache calls :meth:`CaseCache.turn`
at the start of each epoch: what neither this epoch nor the next uses is evicted and
the next epoch's new cases load in a background thread while this one trains.

>>> calls = []
>>> def load(index):
...     calls.append(index)
...     return TransformContext({"id": index})
>>> cache = CaseCache(load)
>>> cache.get(2)["id"], cache.get(2)["id"], calls
(2, 2, [2])
>>> cache.fill([0, 1, 2], workers=2), sorted(calls)
(3, [0, 1, 2])
>>> cache.turn(now=[1, 2], upcoming=[2, 3]); cache.wait()
>>> cache.held(), sorted(calls)
([1, 2, 3], [0, 1, 2, 3])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from clara_core.data.cache import DiskStore
from clara_core.data.chain import CaseError
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

log = logging.getLogger("clara")

SKIP_HINT = ("To skip such cases (and list them at the end), set \"skip_bad_cases\": true "
             "in the image_pipeline's args.")


class CaseCache:
    """The prefix outputs of cases by index: ``load(index)`` runs once per case.

    ``memory``: keep outputs in memory (False: compute, or read from ``store``, on
    every :meth:`get`). ``store`` and ``key``: keep them on disk too, under
    ``key(index)`` (a name that changes with the case and the prefix, see
    :func:`~clara_core.data.cache.case_key`). ``skip_bad_cases``: a case whose
    ``load`` raises :class:`CaseError` is recorded in ``bad_cases`` and
    :meth:`get` returns None for it, instead of raising. ``bad_cases`` may be a dict
    shared with other parts (a batcher records the cases its random transforms
    reject there, and the cache then skips them too).
    """

    def __init__(self, load: Callable[[int], TransformContext], *, memory: bool = True,
                 store: DiskStore | None = None, key: Callable[[int], str] | None = None,
                 skip_bad_cases: bool = False,
                 bad_cases: dict[int, str] | None = None) -> None:
        if store is not None and key is None:
            raise ValueError("CaseCache: a store needs a key(index) naming each case's entry.")
        self.load, self.memory, self.store, self.key = load, memory, store, key
        self.skip_bad_cases = skip_bad_cases
        self.bad_cases: dict[int, str] = {} if bad_cases is None else bad_cases
        self._held: dict[int, TransformContext] = {}
        self._lock = threading.Lock()
        self._loader: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._held)

    def __contains__(self, index: object) -> bool:
        return index in self._held

    def held(self) -> list[int]:
        """The indices held in memory now."""
        return sorted(self._held)

    def get(self, index: int) -> TransformContext | None:
        """The case's prefix output (a copy of the context whose arrays are shared with
        the cache), or None for a bad case being skipped."""
        held = self._held.get(index)
        if held is not None:
            return held.copy()
        if index in self.bad_cases:
            return None
        ctx = self._computed(index)
        if ctx is None or not self.memory:
            return ctx
        for field, value in list(ctx.items()):
            data = value.get_data() if isinstance(value, MedicalImage) else None
            if isinstance(data, np.ndarray):
                if not data.flags.c_contiguous:  # e.g. a transposed NIfTI: crops of a
                    data = np.ascontiguousarray(data)  # C-ordered array copy faster
                    ctx.set_image(field, value.new_image(data, value.get_shape_format()))
                data.setflags(write=False)  # random transforms get views: guard it
        with self._lock:
            self._held[index] = ctx
        return ctx.copy()

    def _computed(self, index: int) -> TransformContext | None:
        """From the store, else from ``load`` (then saved and read back from the store)."""
        key = self.key(index) if self.store is not None and self.key is not None else ""
        ctx = self.store.load(key) if self.store is not None else None
        if ctx is not None:
            return ctx
        try:
            ctx = self.load(index)
        except CaseError as exc:
            if not self.skip_bad_cases:
                raise CaseError(f"{exc}\n{SKIP_HINT}") from exc
            log.warning("skipping bad case %d: %s", index, exc)
            self.bad_cases[index] = str(exc)
            return None
        if self.store is not None:
            self.store.save(key, ctx)
            ctx = self.store.load(key)
        return ctx

    def fill(self, indices: Iterable[int], workers: int = 1) -> int:
        """Compute ``indices`` now in ``workers`` threads (bad ones raise, or are
        skipped); returns how many cases memory holds."""
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(self.get, indices))
        return len(self._held)

    def turn(self, now: Collection[int], upcoming: Collection[int]) -> None:
        """A new epoch uses ``now`` and the next one ``upcoming``: evict the rest and
        compute ``upcoming``'s new cases in a background thread."""
        self.wait()
        keep = set(now) | set(upcoming)
        with self._lock:
            for index in [i for i in self._held if i not in keep]:
                del self._held[index]
        incoming = sorted(set(upcoming) - set(now))

        def load() -> None:
            for i in incoming:
                try:
                    self.get(i)
                except Exception:  # raised again, with its message, when the case is used
                    return

        self._loader = threading.Thread(target=load, daemon=True, name="clara-smart-cache")
        self._loader.start()

    def wait(self) -> None:
        """Until the background loading of :meth:`turn` is done."""
        if self._loader is not None:
            self._loader.join()


__all__ = ["CaseCache"]
