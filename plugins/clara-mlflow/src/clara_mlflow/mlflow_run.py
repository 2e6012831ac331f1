"""``MlflowRun``: the MLflow calls of one tracked run, made in its logging process
(:mod:`clara_mlflow.child`).

Only ``MlflowClient(tracking_uri=...)`` is used, never MLflow's global (fluent)
state; MLflow is imported when the first call runs.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clara_mlflow.store import Store
from clara_mlflow.values import MAX_TAG_VALUE, clip, logged_epochs

#: MLflow's batch limits per call
MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100


class MlflowRun:
    """An MLflow run in ``store``, in the experiment named ``experiment``."""

    def __init__(self, store: Store, experiment: str) -> None:
        self.store, self.experiment = store, experiment
        self.client: Any = None
        self.experiment_id: str | None = None
        self.run_id: str | None = None
        self.logged_through = 0  # the last epoch (step) the run has

    # -- opening -------------------------------------------------------------------------

    def connect(self) -> None:
        from mlflow.tracking import MlflowClient

        for name in ("mlflow.store.db.utils", "alembic"):  # schema creation's INFO lines
            logging.getLogger(name).setLevel(logging.WARNING)
        if self.store.kind == "embedded":
            os.makedirs(Path(self.store.uri[len("sqlite:///"):]).parent, exist_ok=True)
        self.client = MlflowClient(tracking_uri=self.store.uri)
        self.experiment_id = self._experiment()

    def _experiment(self) -> str:
        client = self.client
        found = client.get_experiment_by_name(self.experiment)
        if found is None:
            try:
                return str(client.create_experiment(
                    self.experiment, artifact_location=self.store.artifact_location))
            except Exception:
                found = client.get_experiment_by_name(self.experiment)  # made meanwhile
                if found is None:
                    raise
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return str(found.experiment_id)

    def create(self, run_name: str, tags: Mapping[str, str], params: Mapping[str, str]) -> None:
        """A new run with ``tags`` and ``params``."""
        created = self.client.create_run(self.experiment_id, run_name=run_name,
                                         tags=_clip_tags(tags))
        self.run_id = created.info.run_id
        self.log_params(params, {})

    def find(self, run_id: str | None, uid: str) -> Any:
        """The run ``run_id``, else the one tagged ``clara.uid`` = ``uid``; None when
        there is none (or it was deleted)."""
        from mlflow.exceptions import MlflowException

        if run_id:
            try:
                found = self.client.get_run(run_id)
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
                return None
            return found if found.info.lifecycle_stage != "deleted" else None
        runs = self.client.search_runs([self.experiment_id],
                                       filter_string=f"tags.`clara.uid` = '{uid}'",
                                       max_results=1)
        return runs[0] if runs else None

    def reopen(self, found: Any, tags: Mapping[str, str], params: Mapping[str, str]) -> None:
        """Continue the run ``found`` (a resumed training run): RUNNING again, the last
        epoch it has, the params it lacks, ``clara.resumes`` counted up."""
        self.run_id = found.info.run_id
        self.client.update_run(self.run_id, status="RUNNING")
        self.logged_through = self._last_step(found)
        resumes = int(found.data.tags.get("clara.resumes", "0") or 0) + 1
        self.log_params(params, found.data.params)
        self.log_tags({**tags, "clara.resumes": str(resumes)})

    def _last_step(self, found: Any) -> int:
        keys = ["loss"] if "loss" in found.data.metrics else list(found.data.metrics)
        steps = [m.step for k in keys for m in self.client.get_metric_history(self.run_id, k)]
        return max(steps, default=0)

    def end_abandoned(self, run_id: str | None, uid: str) -> None:
        """A run that never ended (kill -9, then a new run rather than ``--resume``):
        KILLED. Housekeeping only; it never fails the new run."""
        try:
            old = self.find(run_id, uid)
            if old is not None and old.info.status == "RUNNING":
                self.client.set_terminated(old.info.run_id, "KILLED")
        except Exception:  # noqa: BLE001 (an old run's state, not this one's)
            pass

    # -- logging -------------------------------------------------------------------------

    def log_epoch(self, epoch: int, values: Mapping[str, float]) -> None:
        """``values`` at step ``epoch``, unless the run has that epoch already."""
        if epoch <= self.logged_through:
            return
        self.log_metrics(epoch, values)
        self.logged_through = epoch

    def backfill(self, metrics_log: str, epochs_done: int) -> None:
        """The epochs up to ``epochs_done`` of ``metrics_log`` the run lacks (a kill -9
        left them out, or the run was logged to another store before)."""
        for epoch, values in logged_epochs(metrics_log, self.logged_through, epochs_done):
            self.log_epoch(epoch, values)

    def log_metrics(self, step: int, values: Mapping[str, float]) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        metrics = [Metric(k, v, stamp, step) for k, v in values.items()]
        for chunk in _chunks(metrics, MAX_METRICS):
            self.client.log_batch(self.run_id, metrics=chunk)

    def log_params(self, params: Mapping[str, str], existing: Mapping[str, str]) -> None:
        """The params not in ``existing`` (MLflow refuses to change one); a value that
        differs from the logged one is named in the tag ``clara.params_changed``."""
        from mlflow.entities import Param

        new = [Param(k, v) for k, v in params.items() if k not in existing]
        for chunk in _chunks(new, MAX_PARAMS):
            self.client.log_batch(self.run_id, params=chunk)
        changed = sorted(k for k, v in params.items() if k in existing and existing[k] != v)
        if changed:
            self.log_tags({"clara.params_changed": ", ".join(changed)})

    def log_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, v) for k, v in _clip_tags(tags).items()]
        for chunk in _chunks(items, MAX_TAGS):
            self.client.log_batch(self.run_id, tags=chunk)

    def log_artifact(self, path: str, folder: str | None = None) -> None:
        self.client.log_artifact(self.run_id, path, folder)

    def log_cases(self, rows: Sequence[tuple[str, Mapping[str, float]]], folder: str) -> None:
        """Per-case values of ``clara validate`` as ``cases.csv``."""
        names = sorted({k for _, values in rows for k in values})
        with tempfile.TemporaryDirectory(prefix="clara-mlflow-") as tmp:
            path = os.path.join(tmp, "cases.csv")
            with open(path, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(["case", *names])
                for case, values in rows:
                    writer.writerow([case, *(values.get(n, "") for n in names)])
            self.log_artifact(path, folder)

    def terminate(self, status: str) -> None:
        self.client.set_terminated(self.run_id, status)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _clip_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: clip(v, MAX_TAG_VALUE) for k, v in tags.items()}


__all__ = ["MlflowRun"]
