"""``Tracker``: one MLflow run of a clara run (``clara train`` or ``clara validate``).

The hooks call it on the run's thread; it hands every MLflow call to its logging
process (:class:`~clara_mlflow.worker.Worker`, :mod:`clara_mlflow.child`), so
training never waits for the store, nor shares its interpreter with MLflow.

A resumed training run continues its MLflow run (``mlflow.json`` in the run folder's
``plugins/`` names it): params are not logged again (MLflow keeps the first value),
the epochs the MLflow run lacks are logged from ``metrics.jsonl``, and an epoch it
already has is not logged twice. When the store fails, one warning says so, nothing
more is sent, and the end of the run says what was not logged.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from clara_mlflow import run_file
from clara_mlflow.reports import report_dirs, written_reports
from clara_mlflow.search import PARENT_ENV
from clara_mlflow.store import Store, experiment_name
from clara_mlflow.values import flatten, metric_values
from clara_mlflow.worker import Worker

#: seconds the end of a run waits for the calls still queued (CLARA_MLFLOW_FLUSH_TIMEOUT)
FLUSH_TIMEOUT = 60.0
TRUE = ("1", "true", "yes", "on")
#: the logging process's output (MLflow's messages), beside ``mlflow.json``
LOG_FILE = "mlflow.log"


class Tracker:
    """Logs the clara run ``run`` (its :class:`~clara_core.components.run_state.RunInfo`)
    to ``store``; ``environ`` holds the ``CLARA_MLFLOW_*`` and ``MLFLOW_*`` options."""

    def __init__(self, run: Any, store: Store, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.run, self.store, self.environ = run, store, environ
        self.experiment = experiment_name(run.mmar or ".", environ)
        self.flush_timeout = float(environ.get("CLARA_MLFLOW_FLUSH_TIMEOUT") or FLUSH_TIMEOUT)
        self.log_model = (environ.get("CLARA_MLFLOW_LOG_MODEL") or "").lower() in TRUE
        self.started = time.time()
        folder = self.plugin_dir
        self.worker = Worker(asdict(store), self.experiment,
                             os.path.join(folder, LOG_FILE) if folder else None)
        self.config: Mapping[str, Any] = {}
        self.cases: list[tuple[str, dict[str, float]]] = []
        self.finished = False
        self._warned = False

    # -- starting --------------------------------------------------------------------------

    def start_training(self, config: Mapping[str, Any], epochs_done: int) -> None:
        """A training run starts, or resumes (``run.resumed``) after ``epochs_done``
        epochs: a new MLflow run, or the one ``mlflow.json`` names."""
        self.config = config
        path = self.record_path
        saved = run_file.read(path) if path else None
        if saved is not None and saved.tracking_uri != self.store.uri:
            saved = None  # logged to another store: this one gets a run of its own
        resumed = bool(self.run.resumed)
        self.worker.submit("the run's params and tags", {
            "op": "train", "record_path": path, "resumed": resumed,
            "uid": saved.uid if resumed and saved else uuid.uuid4().hex,
            "saved": asdict(saved) if saved else None, "params": flatten(config),
            "tags": self._tags(), "run_name": self._run_name()})
        if resumed and epochs_done:
            self.worker.submit(f"the earlier epochs 1-{epochs_done} (from metrics.jsonl)", {
                "op": "backfill", "metrics_log": self.metrics_log, "epochs_done": epochs_done})

    def start_validation(self, config: Mapping[str, Any]) -> None:
        """``clara validate`` starts: a new MLflow run."""
        self.config = config
        self.worker.submit("the run's params and tags", {
            "op": "validate", "params": flatten(config), "tags": self._tags(),
            "run_name": f"validate {_now()}"})

    # -- events ----------------------------------------------------------------------------

    def epoch(self, epoch: int, metrics: Mapping[str, Any]) -> None:
        self.worker.submit(f"epoch {epoch}", {"op": "epoch", "epoch": epoch,
                                              "values": metric_values(metrics)})
        self.warn_if_failed()

    def case(self, case: str, metrics: Mapping[str, Any]) -> None:
        self.cases.append((case, metric_values(metrics)))
        self.warn_if_failed()

    def checkpoint(self, path: str, kind: str) -> None:
        """The final model (``kind`` ``"model"``), when ``CLARA_MLFLOW_LOG_MODEL`` is on."""
        if kind == "model" and self.log_model and os.path.exists(path):
            self.artifact(path, "model")
        self.warn_if_failed()

    def artifact(self, path: str, folder: str | None = None) -> None:
        """Log the file at ``path`` (into the run's artifact ``folder``)."""
        self.worker.submit(os.path.basename(path), {"op": "artifact", "path": path,
                                                    "folder": folder})

    # -- ending ----------------------------------------------------------------------------

    def end_training(self, result: Any) -> None:
        """Training ended: the picture and the validation reports, then the run's status
        (FAILED with an error, KILLED when interrupted: ``--resume`` reopens it)."""
        picture = getattr(result, "picture", None)
        if picture and os.path.exists(picture):
            self.artifact(picture)
        for path in written_reports(report_dirs(self.run, self.config), self.started):
            self.artifact(path, "validation")
        self.finish("FAILED" if getattr(result, "error", None)
                    else "KILLED" if getattr(result, "interrupted", False) else "FINISHED")

    def end_validation(self, metrics: Mapping[str, Any]) -> None:
        """``clara validate`` ended: its metrics (step 0), the per-case values as
        ``validation/cases.csv``, the reports."""
        self.worker.submit("the validation metrics", {"op": "metrics", "step": 0,
                                                      "values": metric_values(metrics)})
        if self.cases:
            self.worker.submit("cases.csv", {"op": "cases", "rows": self.cases,
                                             "folder": "validation"})
        for path in written_reports(report_dirs(self.run, self.config), self.started):
            self.artifact(path, "validation")
        self.finish("FINISHED")

    def finish(self, status: str, report: bool = True) -> None:
        """End the MLflow run with ``status``, wait for the queued calls (up to
        ``CLARA_MLFLOW_FLUSH_TIMEOUT`` seconds), then print where the run is, or what
        could not be logged."""
        if self.finished:
            return
        self.finished = True
        self.worker.submit(f"the run's end ({status})", {"op": "end", "status": status})
        self.worker.close(self.flush_timeout)
        if report:
            self.report()

    def report(self) -> None:
        if self.worker.failure is None:
            self.run.log(f"mlflow: {self.run.command} run {self.worker.run_id} in "
                         f"{self.store.describe()}, experiment {self.experiment!r}")
            self.run.log(f"  see it with: {self.store.ui_command}")
            return
        self.warn_if_failed()
        self.run.log(f"mlflow: not logged: {summarize(self.worker.missed)}; "
                     f"{self.own_record} keeps the record")

    def warn_if_failed(self) -> None:
        """The one warning of a failed store (printed on the run's thread)."""
        failure = self.worker.failure
        if failure is None or self._warned:
            return
        self._warned = True
        self.run.log(f"clara: warning: mlflow: cannot log to {self.store.describe()} "
                     f"({failure}); {self.store.hint}. The run goes on without tracking, "
                     f"{self.own_record} keeps the record; what was not logged is listed at "
                     "the end")

    # -- where things are ------------------------------------------------------------------

    @property
    def plugin_dir(self) -> str:
        """The run folder's ``plugins/`` (training runs; "" for others)."""
        if self.run.command != "train":
            return ""
        return self.run.plugin_dir or (
            os.path.join(self.run.run_folder, "plugins") if self.run.run_folder else "")

    @property
    def record_path(self) -> str | None:
        """``mlflow.json`` in the run folder's ``plugins/``."""
        folder = self.plugin_dir
        return os.path.join(folder, run_file.FILE_NAME) if folder else None

    @property
    def metrics_log(self) -> str:
        return os.path.join(self.run.run_folder, "metrics.jsonl")

    @property
    def own_record(self) -> str:
        """What keeps the run's numbers when MLflow does not."""
        if self.run.command == "train" and self.run.run_folder:
            return self.metrics_log
        return "the run's output"

    def _tags(self) -> dict[str, str]:
        run, command = self.run, self.run.command
        tags = {"clara.command": command, "clara.mmar": os.path.abspath(run.mmar or "."),
                "clara.host": socket.gethostname(), "clara.run_folder": run.run_folder or "",
                "clara.config_file": run.config_file or "",
                "mlflow.source.name": f"clara {command}", "mlflow.source.type": "LOCAL"}
        parent = self.environ.get(PARENT_ENV)
        if parent:  # a trial of a tracked clara automl search
            tags["mlflow.parentRunId"] = parent
            tags["clara.automl.trial"] = self.environ.get("CLARA_AUTOML_TRIAL", "")
        try:
            tags["mlflow.user"] = getpass.getuser()
        except Exception:  # noqa: BLE001 (no user name in some containers)
            pass
        return {k: v for k, v in tags.items() if v}


    def _run_name(self) -> str:
        """``train <time>``; a search's trial is named by its folder (``trial_003``)."""
        if self.environ.get(PARENT_ENV):
            return os.path.basename(os.path.normpath(os.path.abspath(self.run.mmar or ".")))
        return f"train {_now()}"


def summarize(missed: Sequence[str]) -> str:
    """What was not logged, short: epochs as ranges, the rest by name.

    >>> summarize(["epoch 2", "epoch 3", "epoch 4", "epoch 7", "training.png",
    ...            "the run's end (FINISHED)"])
    "the metrics of epochs 2-4, 7; training.png; the run's end (FINISHED)"
    """
    def epoch_of(what: str) -> int | None:
        words = what.split()
        return int(words[1]) if len(words) == 2 and words[0] == "epoch" and words[
            1].isdigit() else None

    epochs = sorted({e for e in map(epoch_of, missed) if e is not None})
    others = list(dict.fromkeys(m for m in missed if epoch_of(m) is None))
    parts = [f"the metrics of epoch{'s' if len(epochs) > 1 else ''} {_ranges(epochs)}"
             ] if epochs else []
    return "; ".join(parts + others) or "nothing"


def _ranges(numbers: Sequence[int]) -> str:
    """Consecutive numbers as spans.

    >>> _ranges([1, 2, 3, 5])
    '1-3, 5'
    """
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in spans)


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


__all__ = ["FLUSH_TIMEOUT", "Tracker", "summarize"]
