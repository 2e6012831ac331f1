"""The cluster a scheduler describes: TF_CONFIG as Kubeflow's TFJob writes it, and
SLURM's environment under srun, read by TensorFlow's own resolvers."""

from __future__ import annotations

import json

import pytest
from conftest import run_clara
from train_mmar import make_train_mmar

from clara_core.errors import ClaraError
from clara_core.workflow.cluster import choose_source, describe, resolve_cluster

SLURM = {"SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "3", "SLURM_NTASKS": "3",
         "SLURM_STEP_NODELIST": "gpu-node[07-08],cpu9",
         "SLURM_STEP_TASKS_PER_NODE": "1(x3)", "SLURM_JOB_ID": "4242"}


def tfjob(task_type: str, index: int) -> str:
    """TF_CONFIG as the training operator sets it for a TFJob with a chief and 2 workers."""
    return json.dumps({
        "cluster": {"chief": ["mnist-chief-0.kubeflow.svc:2222"],
                    "worker": ["mnist-worker-0.kubeflow.svc:2222",
                               "mnist-worker-1.kubeflow.svc:2222"]},
        "task": {"type": task_type, "index": index}, "environment": "cloud"})


@pytest.fixture
def clean_env(monkeypatch):
    for name in ["TF_CONFIG", *SLURM]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_tfjob_tf_config_gives_the_cluster_spec_and_the_chief(clean_env):
    clean_env.setenv("TF_CONFIG", tfjob("worker", 1))
    cluster = resolve_cluster()
    assert cluster is not None and cluster.source == "tfconfig"
    assert (cluster.task_type, cluster.task_id, cluster.num_tasks) == ("worker", 1, 3)
    assert cluster.resolver.cluster_spec().as_dict() == {
        "chief": ["mnist-chief-0.kubeflow.svc:2222"],
        "worker": ["mnist-worker-0.kubeflow.svc:2222", "mnist-worker-1.kubeflow.svc:2222"]}
    assert not cluster.is_chief
    clean_env.setenv("TF_CONFIG", tfjob("chief", 0))
    chief = resolve_cluster()
    assert chief is not None and chief.is_chief


def test_worker_zero_is_the_chief_without_a_chief_task(clean_env):
    clean_env.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1", "b:1"]},
                                              "task": {"type": "worker", "index": 0}}))
    cluster = resolve_cluster()
    assert cluster is not None and cluster.is_chief and cluster.name == "worker 0"


def test_slurm_environment_gives_hosts_ports_and_rank(clean_env):
    for name, value in SLURM.items():
        clean_env.setenv(name, value)
    clean_env.setenv("CLARA_PORT_BASE", "23456")
    cluster = resolve_cluster(gpus_per_node=0)
    assert cluster is not None and cluster.source == "slurm"
    assert (cluster.task_type, cluster.task_id, cluster.num_tasks) == ("worker", 1, 3)
    assert cluster.resolver.cluster_spec().as_dict() == {
        "worker": ["cpu9:23456", "gpu-node07:23456", "gpu-node08:23456"]}
    assert not cluster.is_chief


def test_auto_trains_alone_without_a_cluster():
    assert describe({}) is None
    assert describe({"SLURM_PROCID": "0", "SLURM_STEP_NUM_TASKS": "1"}) is None
    one = json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}})
    assert describe({"TF_CONFIG": one}) is None
    assert describe({"TF_CONFIG": tfjob("worker", 0), **SLURM}, mode="none") is None
    assert describe(SLURM)[:2] == ("slurm", "worker")
    assert choose_source("auto", {"TF_CONFIG": tfjob("worker", 0), **SLURM}) == "tfconfig"


@pytest.mark.parametrize(("env", "mode", "message"), [
    ({"TF_CONFIG": "{cluster"}, "auto", "TF_CONFIG is not valid JSON"),
    ({"TF_CONFIG": json.dumps({"cluster": {"worker": "a:1"}, "task": {}})}, "auto",
     "must map task types to lists"),
    ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1"]},
                               "task": {"type": "worker", "index": 3}})}, "auto",
     '"task" must name'),
    ({"TF_CONFIG": json.dumps({"cluster": {"worker": ["a:1"], "ps": ["b:1"]},
                               "task": {"type": "worker", "index": 0}})}, "auto",
     "parameter servers"),
    ({}, "tfconfig", "TF_CONFIG is not set"),
    ({"SLURM_PROCID": "0"}, "slurm", "start clara train with srun"),
    ({}, "mpi", "expected one of auto, tfconfig, slurm, none"),
])
def test_bad_cluster_descriptions_say_what_to_set(env, mode, message):
    with pytest.raises(ClaraError, match=message):
        choose_source(mode, env)


def test_the_sdks_mpirun_launch_trains_once_on_rank_0(tmp_path):
    """train_2gpu.sh: mpirun -np 2 ... multi_gpu=true; rank 1 steps aside."""
    root = make_train_mmar(tmp_path, cases=2)
    mpi = {"OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "2",
           "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}
    out = run_clara("train", "-m", str(root), "--set", "epochs=1", "multi_gpu=true", env=mpi)
    assert out.returncode == 0 and "rank 0 trains" in out.stdout, out.stderr
    assert not (root / "models").exists()
    spread = dict(mpi, OMPI_COMM_WORLD_LOCAL_SIZE="1")
    out = run_clara("train", "-m", str(root), env=spread)
    assert out.returncode == 2 and "several hosts" in out.stderr and "srun" in out.stderr
