"""A store that is unreachable, silent or full costs one warning and never the run:
the hooks return at once, the run ends, and the end says what was not logged."""

from __future__ import annotations

import errno
import io
import json
import socket
import time
from dataclasses import asdict

import clara_mlflow.plugin as plugin
import pytest
from clara_mlflow.child import serve
from clara_mlflow.mlflow_run import MlflowRun
from clara_mlflow.store import resolve
from mlflow_helpers import Training, free_port


def warnings_in(out: str) -> list[str]:
    return [line for line in out.splitlines() if "warning" in line]


def timed_training(training: Training, epochs: range) -> tuple[str, float]:
    """The run through its end; the longest a start or epoch hook kept it waiting."""
    slowest = 0.0
    t0 = time.perf_counter()
    training.start()
    slowest = time.perf_counter() - t0
    for epoch in epochs:
        t0 = time.perf_counter()
        training.epoch(epoch)
        slowest = max(slowest, time.perf_counter() - t0)
    return training.end(), slowest


def test_a_closed_port_costs_one_warning_and_the_run_finishes(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    t0 = time.perf_counter()
    out, slowest = timed_training(Training(tmp_path / "mmar"), range(1, 4))
    assert time.perf_counter() - t0 < 30
    assert slowest < 0.5, "a hook waited for the store"
    [warning] = warnings_in(out)
    assert warning.startswith(f"clara: warning: mlflow: cannot log to the tracking server {url}")
    assert "metrics.jsonl keeps the record" in warning
    assert ("mlflow: not logged: the metrics of epochs 1-3; the run's params and tags; "
            "training.png; mean_dice_raw.csv; mean_dice_summary.txt; the run's end (FINISHED)"
            ) in out
    assert "mlflow ui" not in out


def test_a_server_that_never_answers_delays_nothing_but_the_end(tmp_path, monkeypatch):
    """It accepts connections and says nothing: requests time out (here after 1 s,
    retried once), the hooks never wait, the end waits for the failure, not longer."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
        out, slowest = timed_training(Training(tmp_path / "mmar"), range(1, 4))
    assert slowest < 0.5, "a hook waited for the store"
    [warning] = warnings_in(out)
    assert "cannot log to the tracking server" in warning
    assert "mlflow: not logged: the metrics of epochs 1-3" in out


def test_a_slow_store_is_waited_for_at_most_the_flush_timeout(tmp_path, monkeypatch):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
        monkeypatch.setenv("CLARA_MLFLOW_FLUSH_TIMEOUT", "1.5")
        training = Training(tmp_path / "mmar")
        training.start()
        training.epoch(1)
        t0 = time.perf_counter()
        out = training.end()
        waited = time.perf_counter() - t0
    assert waited < 5
    [warning] = warnings_in(out)
    assert "the store did not answer within 1.5 s" in warning
    assert "mlflow: not logged: the metrics of epoch 1; the run's params and tags" in out


def test_a_full_store_stops_the_logger_after_one_failure(tmp_path, monkeypatch):
    """The logging process (run here in this process): a store that fills up after
    epoch 2 gets nothing more, and the answers say which operations were done."""
    log_metrics = MlflowRun.log_metrics

    def full_after_epoch_2(self, step, values):
        if step > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        log_metrics(self, step, values)

    monkeypatch.setattr(MlflowRun, "log_metrics", full_after_epoch_2)
    store = resolve(str(tmp_path / "mmar"))
    ops = [{"store": asdict(store), "experiment": "mmar"},
           {"i": 0, "op": "validate", "run_name": "v", "tags": {}, "params": {}}]
    ops += [{"i": e, "op": "epoch", "epoch": e, "values": {"loss": 1.0 / e}} for e in range(1, 6)]
    ops += [{"i": 6, "op": "end", "status": "FINISHED"}]
    answer = io.StringIO()
    serve([json.dumps(op) for op in ops], answer, parent=0)
    answers = [json.loads(line) for line in answer.getvalue().splitlines()]
    assert [a.get("ok") for a in answers if "ok" in a] == [0, 1, 2]
    assert answers[-2:] == [{"failure": "OSError: [Errno 28] No space left on device"},
                            {"done": True}]


def test_a_store_that_breaks_mid_run_costs_one_warning(tmp_path, monkeypatch):
    """The SQLite file turns to garbage after epoch 2 (a disk that failed): one warning,
    the rest of the run listed as not logged, training untouched."""
    db = tmp_path / "store" / "runs.db"
    db.parent.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    mmar = tmp_path / "mmar"
    training = Training(mmar).start()
    training.epoch(1)
    training.epoch(2)
    worker = plugin._active[id(training.run)][1].worker
    deadline = time.monotonic() + 60
    while len(worker._done) < 3:  # the run, epochs 1 and 2
        assert time.monotonic() < deadline and worker.failure is None
        time.sleep(0.05)
    with open(db, "r+b") as f:
        f.write(b"this is no longer a database" * 4096)
    for epoch in (3, 4, 5):
        training.epoch(epoch)
    out = training.end()
    [warning] = warnings_in(out)
    assert "cannot log to the database" in warning
    assert "mlflow: not logged: the metrics of epochs 3-5; training.png" in out
    assert f"{mmar / 'models' / 'metrics.jsonl'} keeps the record" in out


@pytest.mark.parametrize("where", ["a store that is a file", "an unknown scheme"])
def test_a_store_that_cannot_be_opened_is_one_warning(tmp_path, monkeypatch, where):
    if where == "a store that is a file":
        (tmp_path / "blocked").write_text("not a folder")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'blocked' / 'x.db'}")
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "nosuchscheme://host/path")
    out = Training(tmp_path / "mmar").train(range(1, 3))
    assert len(warnings_in(out)) == 1
    assert "mlflow: not logged: the metrics of epochs 1-2" in out
