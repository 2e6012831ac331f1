"""Which processes train together: the cluster a scheduler described, read with
TensorFlow's own cluster resolvers.

- ``TF_CONFIG`` (what Kubeflow's ``TFJob`` and most launchers set): a JSON object
  with ``cluster`` (task type -> ``host:port`` list) and ``task`` (this process's
  ``type`` and ``index``);
- SLURM, when run as a task of ``srun``: ``SLURM_PROCID``, ``SLURM_STEP_NUM_TASKS``,
  ``SLURM_STEP_NODELIST`` and ``SLURM_STEP_TASKS_PER_NODE`` give the ranks and hosts;
  ports start at ``CLARA_PORT_BASE`` (default 8888) on each host.

``clara train --cluster auto`` (the default) takes ``TF_CONFIG`` when it names more
than one task, else SLURM when ``srun`` started more than one task, else trains in
this process alone. The chief (task type ``chief``, or worker 0 without one) is the
only process that writes the run's files.

>>> import json
>>> env = {"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:2222", "b:2222"]},
...                                 "task": {"type": "worker", "index": 1}})}
>>> describe(env)
('tfconfig', 'worker', 1, 2)
>>> describe({"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1"}) is None   # one task
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clara_core.errors import ClaraError

CLUSTER_MODES = ("auto", "tfconfig", "slurm", "none")
PORT_BASE_ENV, DEFAULT_PORT_BASE = "CLARA_PORT_BASE", 8888
#: seconds a collective may wait for a peer before the job fails on every worker
TIMEOUT_ENV, DEFAULT_TIMEOUT = "CLARA_COLLECTIVE_TIMEOUT", 600
SLURM_VARIABLES = ("SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_STEP_NODELIST",
                   "SLURM_STEP_TASKS_PER_NODE")


@dataclass(frozen=True)
class Cluster:
    """This process's place in a multi-worker job."""

    source: str  # "tfconfig" or "slurm"
    task_type: str
    task_id: int
    num_tasks: int
    resolver: Any  # a tf.distribute.cluster_resolver.ClusterResolver
    is_chief: bool  # the one task that writes the run's files (see chief_task)

    @property
    def name(self) -> str:
        return f"{self.task_type} {self.task_id}"


def _tf_config(environ: Mapping[str, str]) -> dict[str, Any] | None:
    raw = environ.get("TF_CONFIG", "").strip()
    if not raw:
        return None
    try:
        config: dict[str, Any] = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ClaraError(f"TF_CONFIG is not valid JSON ({exc.msg} at character {exc.pos}); "
                         'expected {"cluster": {"worker": ["host:port", ...]}, "task": '
                         '{"type": "worker", "index": 0}}.') from None
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster or not all(
            isinstance(v, list) and all(isinstance(a, str) for a in v) for v in cluster.values()):
        raise ClaraError('TF_CONFIG: "cluster" must map task types to lists of "host:port" '
                         f'addresses, e.g. {{"worker": ["w0:2222", "w1:2222"]}}; got {cluster!r}.')
    if not isinstance(task, dict) or task.get("type") not in cluster or not isinstance(
            task.get("index"), int) or not 0 <= task["index"] < len(cluster[task["type"]]):
        raise ClaraError('TF_CONFIG: "task" must name this process\'s type (one of '
                         f'{sorted(cluster)}) and its index in that list, e.g. '
                         f'{{"type": "worker", "index": 0}}; got {task!r}.')
    unsupported = sorted(set(cluster) - {"chief", "worker", "evaluator"})
    if unsupported:
        raise ClaraError(f"TF_CONFIG: task types {unsupported} are not supported: clara "
                         "trains with MultiWorkerMirroredStrategy, whose tasks are chief "
                         "and worker (parameter servers are not used).")
    return config


def _slurm_tasks(environ: Mapping[str, str]) -> int:
    if "SLURM_PROCID" not in environ:
        return 0
    try:
        return int(environ.get("SLURM_STEP_NUM_TASKS") or environ.get("SLURM_NTASKS") or 1)
    except ValueError:
        raise ClaraError("SLURM_STEP_NUM_TASKS is not a number "
                         f"({environ.get('SLURM_STEP_NUM_TASKS')!r}); run clara train "
                         "through srun.") from None


def choose_source(mode: str, environ: Mapping[str, str]) -> str | None:
    """``"tfconfig"``, ``"slurm"`` or None (one process) for ``--cluster mode``."""
    if mode not in CLUSTER_MODES:
        raise ClaraError(f"--cluster {mode!r}: expected one of {', '.join(CLUSTER_MODES)}.")
    if mode == "none":
        return None
    config = _tf_config(environ) if mode in ("auto", "tfconfig") else None
    if mode == "tfconfig":
        if config is None:
            raise ClaraError("--cluster tfconfig, but TF_CONFIG is not set; set it to the "
                             "cluster's JSON (see examples/cluster/README.md).")
        return "tfconfig"
    if mode == "slurm":
        missing = [v for v in SLURM_VARIABLES if v not in environ]
        if missing:
            raise ClaraError(f"--cluster slurm, but {', '.join(missing)} not set: start "
                             "clara train with srun inside the job (one task per node).")
        return "slurm"
    if config is not None and sum(len(v) for k, v in config["cluster"].items()
                                  if k != "evaluator") > 1:
        return "tfconfig"
    return "slurm" if _slurm_tasks(environ) > 1 else None


def describe(environ: Mapping[str, str], mode: str = "auto") -> tuple[str, str, int, int] | None:
    """``(source, task type, task index, number of tasks)`` without TensorFlow, or None."""
    source = choose_source(mode, environ)
    if source == "tfconfig":
        config = _tf_config(environ)
        assert config is not None
        tasks = sum(len(v) for k, v in config["cluster"].items() if k != "evaluator")
        return source, config["task"]["type"], config["task"]["index"], tasks
    if source == "slurm":
        return source, "worker", int(environ["SLURM_PROCID"]), _slurm_tasks(environ)
    return None


#: (rank, size, ranks on this host) as Open MPI's and MPICH's mpirun set them
MPI_VARIABLES = (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_SIZE"),
                 ("PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"))


def mpirun_rank(environ: Mapping[str, str]) -> int | None:
    """This process's rank when ``mpirun`` started several copies of ``clara train`` on
    one host, as the SDK's ``train_2gpu.sh`` does for Horovod; None without mpirun.
    Rank 0 trains on every GPU of the host (``multi_gpu``), the others have nothing
    to do. Ranks on several hosts are refused: a multi-host job comes from SLURM or
    ``TF_CONFIG``.

    >>> mpirun_rank({"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2",
    ...              "OMPI_COMM_WORLD_LOCAL_SIZE": "2"})
    1
    >>> mpirun_rank({}) is None
    True
    """
    for rank_key, size_key, local_key in MPI_VARIABLES:
        if rank_key not in environ:
            continue
        try:
            rank, size = int(environ[rank_key]), int(environ.get(size_key, "1"))
            local = int(environ.get(local_key, str(size)))
        except ValueError:
            return None
        if size <= 1:
            return None
        if local < size:
            raise ClaraError(
                f"mpirun started {size} copies of clara on several hosts; clara does not "
                "use MPI: launch a multi-host job with srun (SLURM) or a TF_CONFIG per "
                "worker (Kubernetes), see examples/cluster/, or one process per host.")
        return rank
    return None


def resolve_cluster(mode: str = "auto", gpus_per_node: int | None = None) -> Cluster | None:
    """The cluster this process belongs to (from ``os.environ``, which TensorFlow's
    resolvers read), or None to train alone. ``gpus_per_node`` defaults to the GPUs
    TensorFlow sees (0 on CPU machines)."""
    environ = os.environ
    found = describe(environ, mode)
    if found is None:
        return None
    import tensorflow as tf

    source, task_type, task_id, tasks = found
    if task_type == "evaluator":
        raise ClaraError("TF_CONFIG names this process an evaluator; clara validates "
                         "on the chief during training, so run only chief and workers.")
    if source == "tfconfig":
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    else:
        try:
            port_base = int(environ.get(PORT_BASE_ENV, DEFAULT_PORT_BASE))
        except ValueError:
            raise ClaraError(f"{PORT_BASE_ENV}={environ[PORT_BASE_ENV]!r} is not a port "
                             "number.") from None
        gpus = gpus_per_node if gpus_per_node is not None else len(
            tf.config.list_physical_devices("GPU"))
        per_node = max(int(n.split("(")[0]) for n in
                       environ["SLURM_STEP_TASKS_PER_NODE"].split(","))
        # CPU nodes: one "slot" per task so the resolver's GPU packing keeps every task
        resolver = tf.distribute.cluster_resolver.SlurmClusterResolver(
            port_base=port_base, gpus_per_node=gpus or per_node,
            gpus_per_task=max(gpus // per_node, 1) if gpus else 1, auto_set_gpu=bool(gpus))
        resolver.cluster_spec()  # sets task_type and task_id
    chief = chief_task(task_type, task_id, resolver.cluster_spec().as_dict())
    return Cluster(source, task_type, task_id, tasks, resolver, chief)


def chief_task(task_type: str, task_id: int, spec: Mapping[str, Any]) -> bool:
    """Whether this task is the chief: task type ``chief``, or worker 0 without one.
    Decided once, when the cluster is resolved; training reads ``Cluster.is_chief``.

    >>> chief_task("worker", 0, {"worker": ["a:1", "b:1"]})
    True
    >>> chief_task("worker", 0, {"chief": ["c:1"], "worker": ["a:1"]})
    False
    """
    if task_type == "chief":
        return True
    return task_type == "worker" and task_id == 0 and "chief" not in spec


def collective_timeout() -> float:
    """``CLARA_COLLECTIVE_TIMEOUT`` seconds (default 600): long enough for a validation
    pass, short enough that a dead worker does not hang the others for hours."""
    raw = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ClaraError(f"{TIMEOUT_ENV}={raw!r}: expected a positive number of seconds.")
    return value


def multi_worker_strategy(cluster: Cluster, gpu: bool) -> Any:
    """``MultiWorkerMirroredStrategy`` over ``cluster``: NCCL between GPUs, ring
    collectives on CPUs, with the collective timeout. Create it before TensorFlow runs
    anything (it configures the collective ops of the process)."""
    import tensorflow as tf

    impl = tf.distribute.experimental.CommunicationImplementation
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=impl.NCCL if gpu else impl.RING, timeout_seconds=collective_timeout())
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=cluster.resolver,
                                                    communication_options=options)


__all__ = ["CLUSTER_MODES", "Cluster", "chief_task", "choose_source", "collective_timeout",
           "describe", "mpirun_rank", "multi_worker_strategy", "resolve_cluster"]
