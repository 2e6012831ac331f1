"""``ReplicaFeed``: the per-replica batches of an epoch under a multi-device strategy.

Each of a :class:`~clara_core.data.shard.Shard`'s replicas trains on its own cases
of the epoch's window in its own seeded order, ``batch_size / num_replicas`` samples
a step, for the same number of steps on every replica (the smallest share decides).
A replica runs through its cases again rather than run short (when its bad cases
were skipped, or when an epoch holds fewer samples than one batch: then one step
repeats them, as on one device). The samples come from a
:class:`~clara_core.data.batcher.Batcher`, so they are the same whatever the worker
count, and 2 workers x 1 replica see what 1 worker x 2 replicas see.

>>> import numpy as np
>>> from clara_core import MedicalImage, TransformContext
>>> from clara_core.data.batcher import Batcher
>>> from clara_core.data.shard import Shard
>>> def case(index):
...     ctx = TransformContext()
...     for field in ("image", "label"):
...         ctx.set_image(field, MedicalImage(np.full((1, 2, 2), index, np.float32), "CHW"))
...     return ctx
>>> feed = ReplicaFeed(Shard((0, 1), 2), Batcher(case, [], batch_size=2, shuffle=False))
>>> [[images[:, 0, 0, 0].tolist() for images, _ in step] for step in feed.epoch(0, range(4))]
[[[0.0], [1.0]], [[2.0], [3.0]]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import cycle

from clara_core.data.batcher import Batch, Batcher, Sample
from clara_core.data.prefetch import prefetched
from clara_core.data.shard import Shard
from clara_core.errors import ClaraError


class ReplicaFeed:
    """The steps of an epoch for ``shard``'s replicas, from ``batcher``'s samples,
    prepared ``prefetch`` steps ahead in a background thread."""

    def __init__(self, shard: Shard, batcher: Batcher, prefetch: int = 0) -> None:
        shard.per_replica_batch(batcher.batch_size)  # refuse an uneven split now
        self.shard, self.batcher, self.prefetch = shard, batcher, prefetch

    def steps(self, window: Sequence[int], samples_per_case: int) -> int:
        """Steps of an epoch over ``window`` (every replica's cases): at least one."""
        shard = self.shard
        steps = shard.steps(window, samples_per_case, self.batcher.batch_size)
        if steps == 0:  # fewer samples than a batch: they repeat to fill one, as on one device
            if any(not shard.replica_cases(window, g) for g in range(shard.num_replicas)):
                raise ClaraError(f"{len(window)} training case(s) cannot give each of "
                                 f"{shard.num_replicas} replicas a case: add cases, or train "
                                 "on fewer devices or workers.")
            steps = 1
        return steps

    def epoch(self, epoch: int, window: Sequence[int],
              samples_per_case: int = 1) -> Iterator[list[Batch]]:
        """One list per step with a batch for each of this worker's replicas, in the
        shard's order; ``samples_per_case`` is what one case gives (the crop's
        ``num_samples``)."""
        batcher, shard = self.batcher, self.shard
        steps = self.steps(window, samples_per_case)
        size = shard.per_replica_batch(batcher.batch_size)
        streams = [self._cycled_samples(epoch, shard.order(window, g, batcher.seed, epoch,
                                                           batcher.shuffle))
                   for g in shard.replicas]

        def steps_of_epoch() -> Iterator[list[Batch]]:
            for _ in range(steps):
                yield [batcher.stack([next(stream) for _ in range(size)]) for stream in streams]

        return prefetched(steps_of_epoch(), self.prefetch)

    def _cycled_samples(self, epoch: int, order: list[int]) -> Iterator[Sample]:
        """The samples of ``order``'s cases, starting over at the end (a replica whose
        bad cases were skipped repeats its others rather than run short)."""
        empty = 0
        for samples in self.batcher.case_stream(epoch, cycle(order)):
            empty = 0 if samples else empty + 1
            if empty >= len(order):
                raise ClaraError(f"Every training case of this replica ({order}) was "
                                 "skipped as bad; fix them (see the warnings above).")
            for s in samples:
                yield self.batcher.formatted(s)


__all__ = ["ReplicaFeed"]
