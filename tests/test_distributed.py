"""``tf.distribute`` across devices and processes, on CPUs.

- One process, ``MirroredStrategy`` over two logical CPU devices: each replica
  trains on its own half of the cases (``clara_core.data.shard``).
- Two ``clara train`` processes on localhost ports, joined by ``TF_CONFIG`` into a
  ``MultiWorkerMirroredStrategy``, one device each: the same two replicas, so the
  same losses; only the chief writes the run's files.
- SIGTERM on one worker stops both at the same step with a resume point, and the
  resumed pair continues as if never stopped; a killed worker ends the other with
  a message naming it.

TensorFlow fixes its logical devices when it first initialises, so the one-process
run is a fresh interpreter. The U-Net uses instance normalisation: batch statistics
are per replica, so they would differ with the split.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from train_mmar import losses, make_train_mmar

# the slow tier: worker processes of their own
pytestmark = pytest.mark.slow

EPOCHS = 4
SETS = ["train.model.args.normalization=instance"]

MIRRORED = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from clara_core.config.builder import build_config
    from clara_core.config.loader import load_config, locate
    from clara_core.workflow.trainer import Trainer

    config, env, root = locate(sys.argv[1], None, None)
    loaded = load_config(config, env, ["MMAR_CKPT_DIR=models_mirrored", *sys.argv[2:]], root)
    trainer = Trainer(build_config(loaded), log=lambda *a: None, progress=False,
                      strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    result = trainer.run()
    print(json.dumps({"replicas": trainer.strategy.num_replicas_in_sync,
                      "losses": result.losses}))
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def start_workers(root: Path, folder: str, *extra: str, tmp: Path | None = None,
                  env: dict[str, str] | None = None) -> list[subprocess.Popen[str]]:
    """Two ``clara train`` processes, worker 0 the chief, each with a log file."""
    cluster = {"worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    workers = []
    for index in range(2):
        worker_env = {**os.environ, **(env or {}), "TF_CPP_MIN_LOG_LEVEL": "2",
                      "TF_CONFIG": json.dumps({"cluster": cluster,
                                               "task": {"type": "worker", "index": index}})}
        if tmp is not None:
            (tmp / f"tmp{index}").mkdir(exist_ok=True)
            worker_env["TMPDIR"] = str(tmp / f"tmp{index}")
        log = open(root / f"worker{index}-{folder}.log", "a")  # noqa: SIM115 (Popen keeps it)
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "clara_core", "train", "-m", str(root), "--no-progress",
             "--set", f"MMAR_CKPT_DIR={folder}", *SETS, *extra],
            stdout=log, stderr=subprocess.STDOUT, text=True, env=worker_env))
    return workers


def finish(workers: list[subprocess.Popen[str]], timeout: float = 240) -> list[int]:
    return [w.wait(timeout=timeout) for w in workers]


def log_of(root: Path, folder: str, index: int) -> str:
    return (root / f"worker{index}-{folder}.log").read_text()


def wait_for(root: Path, folder: str, index: int, text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while text not in log_of(root, folder, index):
        assert time.monotonic() < deadline, log_of(root, folder, index)[-3000:]
        time.sleep(0.2)


@pytest.fixture(scope="module")
def mmar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_train_mmar(tmp_path_factory.mktemp("distributed"), cases=6, epochs=EPOCHS)


@pytest.fixture(scope="module")
def two_workers(mmar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("worker-tmp")
    codes = finish(start_workers(mmar, "models_pair", tmp=tmp))
    assert codes == [0, 0], log_of(mmar, "models_pair", 0)[-3000:] + log_of(
        mmar, "models_pair", 1)[-3000:]
    return tmp


def test_two_workers_train_like_one_process_over_two_devices(mmar, two_workers):
    out = subprocess.run([sys.executable, "-c", MIRRORED, str(mmar), *SETS],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    mirrored = json.loads(out.stdout.strip().splitlines()[-1])
    assert mirrored["replicas"] == 2
    pair = losses(mmar / "models_pair")
    assert len(pair) == EPOCHS
    for a, b in zip(pair, mirrored["losses"], strict=True):
        assert abs(a - b) <= 1e-5 * max(abs(b), 1.0), (pair, mirrored)
    chief, other = log_of(mmar, "models_pair", 0), log_of(mmar, "models_pair", 1)
    assert "strategy: MultiWorkerMirroredStrategy over 2 replica(s); workers: 2" in chief
    assert "this is worker 0, the chief" in chief and "this is worker 1," in other
    # five training cases: replica 0 takes cases 0, 2, 4 and replica 1 cases 1, 3
    assert "(this worker trains on 3)" in chief and "(this worker trains on 2)" in other


def test_only_the_chief_writes_the_run_files(mmar, two_workers):
    models = mmar / "models_pair"
    assert {"metrics.jsonl", "train_state.json", "model_final.weights.h5"} <= {
        p.name for p in models.iterdir()}
    records = [json.loads(line) for line in (models / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if "loss" in r] == list(range(1, EPOCHS + 1))
    # the other worker's copies went to a temporary folder, removed at the end
    assert not any((two_workers / "tmp1").iterdir())


def test_sigterm_on_one_worker_stops_both_and_the_pair_resumes_identically(mmar, two_workers):
    workers = start_workers(mmar, "models_stop")
    wait_for(mmar, "models_stop", 1, "epoch=1 ")
    workers[1].send_signal(signal.SIGTERM)
    assert finish(workers) == [143, 143]
    assert "another worker was asked to stop" in log_of(mmar, "models_stop", 0)
    state = json.loads((mmar / "models_stop" / "train_state.json").read_text())
    assert 1 <= state["epoch"] < EPOCHS
    codes = finish(start_workers(mmar, "models_stop", "--resume"))
    assert codes == [0, 0], log_of(mmar, "models_stop", 0)[-3000:]
    resumed, reference = losses(mmar / "models_stop"), losses(mmar / "models_pair")
    assert resumed == pytest.approx(reference, rel=1e-5, abs=1e-6)


def test_a_killed_worker_ends_the_other_with_a_message_naming_it(mmar, two_workers):
    workers = start_workers(mmar, "models_kill", "--set", "epochs=500",
                            env={"CLARA_COLLECTIVE_TIMEOUT": "30"})
    wait_for(mmar, "models_kill", 0, "epoch=1 ")
    workers[1].kill()
    start = time.monotonic()
    code = workers[0].wait(timeout=120)
    assert code != 0 and time.monotonic() - start < 100
    message = log_of(mmar, "models_kill", 0)
    assert "Training stopped on worker 0: worker 1 (localhost:" in message, message[-3000:]
    assert "--resume" in message
