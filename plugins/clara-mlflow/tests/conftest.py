"""Fixtures of clara-mlflow's tests: a clean environment per test, and an ``mlflow
server`` on a free localhost port (the slow tier). Helpers: ``mlflow_helpers``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

# mlflow_helpers, beside this file; appended, so that `conftest` stays the repository's
# (tests/ on pytest's pythonpath: run_clara)
sys.path.append(str(Path(__file__).parent))

import clara_mlflow.plugin as plugin  # noqa: E402
from mlflow_helpers import free_port  # noqa: E402


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No tracking URI of the machine's; the plugin's setdefaults undone after each test."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(("MLFLOW_", "CLARA_MLFLOW_")):
            monkeypatch.delenv(name)
    yield
    os.environ.clear()
    os.environ.update(saved)
    assert not plugin._active, "a tracked run was left open"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on a free localhost port, SQLite behind it and artifacts served
    (needs the full ``mlflow`` package: the slow tier installs it); its URL."""
    pytest.importorskip("flask")
    pytest.importorskip("mlflow.server")
    mlflow = shutil.which("mlflow", path=os.path.dirname(sys.executable))
    if mlflow is None:
        pytest.skip("no mlflow command beside this Python")
    base, port = tmp_path_factory.mktemp("mlflow-server"), free_port()
    log = open(base / "server.log", "w")
    proc = subprocess.Popen(
        [mlflow, "server", "--backend-store-uri", f"sqlite:///{base}/mlflow.db", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "1", "--serve-artifacts",
         "--artifacts-destination", str(base / "artifacts")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start: {(base / 'server.log').read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
