"""Real processes stopped from outside: ``kill -9`` at random moments, SIGTERM (what
SLURM and Kubernetes send), and a second run on the same MMAR while one is training.
Every resumed run must reproduce the uninterrupted run's losses."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import run_clara
from train_mmar import losses, make_train_mmar, records

# the slow tier: kill -9 and SIGTERM need processes of their own
pytestmark = pytest.mark.slow

EPOCHS = 4
KILLS = 6


def start(root: Path, *extra: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "clara_core", "train", "-m", str(root),
                             "--no-progress", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for_file(proc: subprocess.Popen[str], path: Path) -> None:
    """Wait until ``path`` exists and is not empty, while the run goes on."""
    deadline = time.monotonic() + 240
    while not (path.exists() and path.stat().st_size):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


def wait_for_first_epoch(proc: subprocess.Popen[str], root: Path) -> None:
    wait_for_file(proc, root / "models" / "metrics.jsonl")


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The uninterrupted run, and how long its training loop took."""
    root = make_train_mmar(tmp_path_factory.mktemp("reference") / "mmar", epochs=EPOCHS)
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    seconds = float(re.search(r"trained epochs 1-\d+ in ([0-9.]+) s", out.stdout).group(1))
    return root, seconds


def wait_for_line(proc: subprocess.Popen[str], prefix: str) -> None:
    """Read the run's output until a line starts with ``prefix`` (the build is done)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(prefix):
            return
    raise AssertionError(f"the run ended before printing {prefix!r}: {proc.communicate()}")


def test_kill_9_at_random_moments_then_resume_reproduces_the_run(reference, tmp_path):
    root, seconds = reference
    rng = np.random.default_rng(2026)
    expected = losses(root / "models")
    later_epochs = sum(r["seconds"] for r in records(root / "models")[1:])
    outcomes = []
    for k in range(KILLS):
        mmar = tmp_path / f"run{k}"
        shutil.copytree(root, mmar, ignore=shutil.ignore_patterns("models", "eval"))
        proc = start(mmar)
        if k % 2:  # any moment of the training loop, the first epoch's tracing included
            wait_for_line(proc, "model:")
            time.sleep(float(rng.uniform(0.0, 1.0)) * seconds)
        else:  # a moment after the first resume point was committed
            wait_for_file(proc, mmar / "models" / "train_state.json")
            time.sleep(float(rng.uniform(0.0, 1.0)) * later_epochs)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        had_checkpoint = (mmar / "models" / "train_state.json").exists()
        again = run_clara("train", "-m", str(mmar), "--no-progress",
                          *(["--resume"] if had_checkpoint else []))
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Traceback" not in again.stderr
        np.testing.assert_allclose(losses(mmar / "models"), expected, rtol=1e-6)
        assert not list((mmar / "models").glob(".tmp-*"))
        outcomes.append(had_checkpoint)
    assert sum(outcomes) >= KILLS // 2, f"too few kills landed after a checkpoint: {outcomes}"


def test_sigterm_writes_a_resume_point_and_resume_reproduces_the_run(reference, tmp_path):
    root, _ = reference
    mmar = tmp_path / "mmar"
    shutil.copytree(root, mmar, ignore=shutil.ignore_patterns("models", "eval"))
    proc = start(mmar)
    wait_for_first_epoch(proc, mmar)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 143, stdout + stderr
    assert "SIGTERM: stopping after this step" in stdout + stderr
    assert "--resume" in stdout and "Traceback" not in stderr
    state = json.loads((mmar / "models" / "train_state.json").read_text())
    assert state["epoch"] < EPOCHS
    resumed = run_clara("train", "-m", str(mmar), "--no-progress", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    np.testing.assert_allclose(losses(mmar / "models"), losses(root / "models"), rtol=1e-6)


def test_a_second_run_on_a_training_mmar_is_refused(reference, tmp_path):
    root, _ = reference
    mmar = tmp_path / "mmar"
    shutil.copytree(root, mmar, ignore=shutil.ignore_patterns("models", "eval"))
    first = start(mmar)
    try:
        wait_for_first_epoch(first, mmar)
        second = run_clara("train", "-m", str(mmar), "--no-progress")
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"Another clara train (process {first.pid} on" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
