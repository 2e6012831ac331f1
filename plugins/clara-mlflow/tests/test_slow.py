"""The slow tier: an ``mlflow server`` over HTTP (the full ``mlflow`` package), ``kill -9``
during a tracked training and ``--resume``, and a real run against a closed port."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import run_clara
from mlflow_helpers import (
    Training,
    artifacts,
    embedded_uri,
    expected_history,
    free_port,
    history,
    runs_of,
)
from test_end_to_end import logged_as_in_metrics_jsonl
from train_mmar import make_train_mmar, records

pytestmark = pytest.mark.slow

EPOCHS = 4


def test_a_tracking_server_over_http(mlflow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "http-fake")
    mmar = tmp_path / "mmar"
    Training(mmar).train(range(1, 3), interrupted=True)
    out = Training(mmar, resumed=True, epochs_done=2).train(range(3, 5))
    assert f"open {mlflow_server} in a browser" in out and "warning" not in out
    [run] = runs_of(mlflow_server, "http-fake")
    assert run.info.status == "FINISHED" and run.data.tags["clara.resumes"] == "1"
    assert history(mlflow_server, run.info.run_id) == expected_history(range(1, 5))
    assert artifacts(mlflow_server, run.info.run_id) == [
        "training.png", "validation/mean_dice_raw.csv", "validation/mean_dice_summary.txt"]
    assert not (mmar / "mlruns").exists()


def test_clara_train_logs_to_a_tracking_server(mlflow_server, tmp_path):
    root = make_train_mmar(tmp_path / "brain", cases=3, epochs=2)
    out = run_clara("train", "-m", str(root), "--no-progress", "--tracking", "mlflow",
                    env={"MLFLOW_TRACKING_URI": mlflow_server})
    assert out.returncode == 0, out.stdout + out.stderr
    assert "warning" not in out.stdout + out.stderr
    [run] = runs_of(mlflow_server, "brain")
    logged_as_in_metrics_jsonl(mlflow_server, run.info.run_id, root / "models")
    assert "training.png" in artifacts(mlflow_server, run.info.run_id)


def test_clara_train_against_a_closed_port_finishes_with_one_warning(tmp_path):
    root = make_train_mmar(tmp_path / "mmar", cases=3, epochs=2)
    url = f"http://127.0.0.1:{free_port()}"
    out = run_clara("train", "-m", str(root), "--no-progress", "--tracking", "mlflow",
                    env={"MLFLOW_TRACKING_URI": url})
    assert out.returncode == 0, out.stdout + out.stderr
    lines = (out.stdout + out.stderr).splitlines()
    assert len([line for line in lines if "warning" in line]) == 1, lines
    assert any(line.startswith("mlflow: not logged: the metrics of epochs 1-2") for line in lines)
    assert [r["epoch"] for r in records(root / "models")] == [1, 2]


def start(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "clara_core", "train", "-m", str(root),
                             "--no-progress", "--tracking", "mlflow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))


def wait_for(proc: subprocess.Popen[str], path: Path) -> None:
    deadline = time.monotonic() + 240
    while not (path.exists() and path.stat().st_size):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.fixture(scope="module")
def untouched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_train_mmar(tmp_path_factory.mktemp("kill") / "mmar", epochs=EPOCHS)


@pytest.mark.parametrize("kill", range(3))
def test_kill_9_during_training_then_resume_gives_one_run_with_every_epoch_once(
        untouched, tmp_path, kill):
    mmar = tmp_path / "mmar"
    shutil.copytree(untouched, mmar)
    rng = np.random.default_rng(2026 + kill)
    proc = start(mmar)
    wait_for(proc, mmar / "models" / "train_state.json")  # a resume point exists
    time.sleep(float(rng.uniform(0.0, 1.5)))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    again = run_clara("train", "-m", str(mmar), "--no-progress", "--tracking", "mlflow",
                      "--resume")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "warning" not in again.stdout + again.stderr
    uri = embedded_uri(mmar)
    [run] = runs_of(uri, "mmar")
    assert run.info.status == "FINISHED"
    assert [r["epoch"] for r in records(mmar / "models")] == list(range(1, EPOCHS + 1))
    logged_as_in_metrics_jsonl(uri, run.info.run_id, mmar / "models")
    log = (mmar / "models" / "plugins" / "mlflow.log").read_text()
    loggers = [int(line.split()[2]) for line in log.splitlines()
               if line.startswith("clara-mlflow logger ")]
    assert len(loggers) == 2  # the killed run's and the resumed run's
    time.sleep(1)
    for pid in loggers:  # the killed run's logger stopped too
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
