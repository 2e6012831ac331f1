"""Where a run trains: its ``tf.distribute`` strategy, the replicas this process feeds
and whether it writes the run's files.

- One device: the default strategy; ``multi_gpu: true`` on one host:
  ``MirroredStrategy`` over the visible GPUs; a cluster (``TF_CONFIG`` or SLURM, see
  :mod:`clara_core.workflow.cluster`): ``MultiWorkerMirroredStrategy``.
- With several replicas each process feeds only its own (global replica ids from
  the strategy), through ``experimental_distribute_values_from_function`` from the
  pipeline's threaded NumPy feed: ``distribute_datasets_from_function`` needs a
  ``tf.data.Dataset``, and the only way to make one of Python-made batches is the
  generator bridge that halved crops/s (``benchmarks/scaling.py`` measures both).
- Only the chief (``Cluster.is_chief``, decided when the cluster is resolved) writes
  into the run folder; the other workers write into a temporary folder that is
  removed at the end, and read the chief's resume point
  (:meth:`clara_core.workflow.trainer.Trainer.run`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clara_core.config.settings import TrainSettings
from clara_core.errors import ClaraError
from clara_core.workflow.cluster import Cluster, multi_worker_strategy


@dataclass
class Placement:
    """A strategy, the cluster it spans (None: this process alone) and this process's
    replicas (global ids, in local device order)."""

    strategy: Any
    cluster: Cluster | None
    local_replicas: list[int]

    @classmethod
    def create(cls, settings: TrainSettings, cluster: Cluster | None, gpu: bool,
               strategy: Any = None) -> Placement:
        """The strategy the settings and cluster ask for (or ``strategy`` as given)."""
        import tensorflow as tf

        if strategy is None and cluster is not None:
            strategy = multi_worker_strategy(cluster, gpu)
        elif strategy is None:
            strategy = tf.distribute.MirroredStrategy() if settings.multi_gpu \
                else tf.distribute.get_strategy()
        ids = strategy.experimental_distribute_values_from_function(
            lambda ctx: ctx.replica_id_in_sync_group)
        local = [int(i) for i in strategy.experimental_local_results(ids)]
        return cls(strategy, cluster, local)

    @property
    def num_replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    def describe(self, gpu: bool) -> str:
        """The log's strategy line."""
        import tensorflow as tf

        name = "MultiWorkerMirroredStrategy" if isinstance(  # its class is an alias
            self.strategy, tf.distribute.MultiWorkerMirroredStrategy) \
            else type(self.strategy).__name__
        line = f"strategy: {name} over {self.num_replicas} replica(s)"
        if self.cluster is not None:
            role = ", the chief" if self.cluster.is_chief else ""
            line += (f"; workers: {self.cluster.num_tasks} (this is {self.cluster.name}"
                     f"{role}, from {self.cluster.source}); devices per worker: "
                     f"{len(self.local_replicas)}")
        return line + f"; GPUs visible: {int(gpu)}"

    def distribute(self, per_replica: list[tuple[Any, Any]]) -> tuple[Any, Any]:
        """This process's per-replica ``(images, labels)`` batches as distributed values."""
        import tensorflow as tf

        devices = self.strategy.extended.worker_devices

        def value(ctx: Any) -> tuple[Any, Any]:
            k = self.local_replicas.index(ctx.replica_id_in_sync_group)
            with tf.device(devices[k]):
                images, labels = per_replica[k]
                return tf.convert_to_tensor(images), tf.convert_to_tensor(labels)

        images, labels = self.strategy.experimental_distribute_values_from_function(value)
        return images, labels

    def peer_failure(self, exc: BaseException) -> ClaraError:
        """The message when a collective fails: which worker, and what to do."""
        assert self.cluster is not None
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        found = re.search(r"/job:(\w+)/replica:\d+/task:(\d+)", str(exc))
        who = "a peer worker"
        if found:
            task_type, task_id = found.group(1), int(found.group(2))
            spec = self.cluster.resolver.cluster_spec().as_dict().get(task_type, [])
            address = f" ({spec[task_id]})" if task_id < len(spec) else ""
            who = f"{task_type} {task_id}{address}"
        return ClaraError(
            f"Training stopped on {self.cluster.name}: {who} stopped answering or failed "
            f"({type(exc).__name__}: {text[:300]}). The job stops on every worker; restart "
            "all workers with --resume to continue from the last resume point.")


__all__ = ["Placement"]
