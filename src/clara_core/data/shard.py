"""Cases per replica: how a multi-device run splits the data.

Global replica ``g`` of ``R`` owns the cases ``i`` with ``i % R == g``, for the whole
run: a worker reads and caches only its replicas' cases (its memory is the dataset
over the number of workers). Each epoch every replica trains on its own cases in a
seeded order, ``output_batch_size / R`` samples per step, for the same number of
steps on every replica (the smallest share decides: uneven shards would leave the
last steps of one worker waiting forever in an all-reduce). The split depends only
on ``g`` and ``R``, so 2 workers x 1 device and 1 worker x 2 devices see the same
global batches.

>>> s = Shard(replicas=(1,), num_replicas=2)
>>> s.owns(3), s.owns(4)
(True, False)
>>> s.replica_cases([0, 1, 2, 3, 4], 1)
[1, 3]
>>> s.steps([0, 1, 2, 3, 4], samples_per_case=2, batch_size=4)   # 2 cases x 2 / 2
2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from clara_core.errors import ClaraError


@dataclass(frozen=True)
class Shard:
    """This worker's ``replicas`` (global ids, in local order) of ``num_replicas``."""

    replicas: tuple[int, ...]
    num_replicas: int

    def owns(self, case: int) -> bool:
        """Whether one of this worker's replicas trains on ``case``."""
        return case % self.num_replicas in self.replicas

    def replica_cases(self, cases: Sequence[int], replica: int) -> list[int]:
        return [i for i in cases if i % self.num_replicas == replica]

    def per_replica_batch(self, batch_size: int) -> int:
        """``batch_size`` (the global batch) over the replicas."""
        if batch_size % self.num_replicas:
            raise ClaraError(
                f"output_batch_size {batch_size} does not split over {self.num_replicas} "
                "replicas: it is the global batch, so make it a multiple of the number of "
                "replicas (workers x devices per worker).")
        return batch_size // self.num_replicas

    def steps(self, cases: Sequence[int], samples_per_case: int, batch_size: int) -> int:
        """Steps of an epoch over ``cases`` (the same on every replica)."""
        fewest = min(len(self.replica_cases(cases, g)) for g in range(self.num_replicas))
        return fewest * samples_per_case // self.per_replica_batch(batch_size)

    def order(self, cases: Sequence[int], replica: int, seed: int, epoch: int,
              shuffle: bool) -> list[int]:
        """``replica``'s cases of an epoch in training order (shuffled by seed, epoch
        and replica)."""
        own = np.array(self.replica_cases(cases, replica))
        if shuffle:
            np.random.default_rng([seed, epoch, replica]).shuffle(own)
        return [int(i) for i in own]


__all__ = ["Shard"]
