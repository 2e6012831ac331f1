"""``SearchRun``: the MLflow run of a ``clara automl`` search, parent of its trials' runs.

The search's own process makes the calls (it only waits on its trials' processes, so
MLflow costs it nothing that matters). Every trial's ``clara train`` gets, in its
environment, the store, the experiment and this run's id (:meth:`SearchRun.trial_env`),
so its run lands in the experiment of the MMAR searched, nested under the search
(MLflow's ``mlflow.parentRunId`` tag): one search, one run with a child per trial.
The search run holds the search's settings as params and, per trial (its number as
the step), the trial's score and the best score so far.

A resumed search, or a process on another host joining the same study, finds the run
again by its ``clara.search`` tag (a digest of the study and the run id). Two processes
that start at the very same moment may both create one; each then keeps the earliest.

>>> search_key({"study": "/m/automl/a/study.journal", "run_id": "a"})
'b9ead0e90787f740'
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from typing import Any

from clara_mlflow.mlflow_run import MlflowRun
from clara_mlflow.store import Store, experiment_name
from clara_mlflow.values import flatten

#: a trial's environment: the search run its run is nested under
PARENT_ENV = "CLARA_MLFLOW_PARENT_RUN_ID"
#: the search run's tag that finds it again
SEARCH_TAG = "clara.search"


def search_key(search: Mapping[str, Any]) -> str:
    """The same for every process of one search (its study and run id)."""
    text = f"{search.get('study')}|{search.get('run_id')}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


class SearchRun:
    """The MLflow run of the search ``run`` (a ``RunInfo`` of command ``automl``)."""

    def __init__(self, run: Any, store: Store, environ: Mapping[str, str] | None = None
                 ) -> None:
        self.run, self.store = run, store
        self.experiment = experiment_name(run.mmar or ".", environ)
        self.mlflow = MlflowRun(store, self.experiment)
        self.best: float | None = None

    def start(self, search: Mapping[str, Any]) -> None:
        """The search's run: found by its tag (resumed, joined), else created."""
        mlflow = self.mlflow
        mlflow.connect()
        key = search_key(search)
        found = self._earliest(key)
        if found is None:
            tags = {SEARCH_TAG: key, "clara.command": "automl",
                    "clara.mmar": os.path.abspath(self.run.mmar or "."),
                    "clara.study": str(search.get("study")),
                    "mlflow.source.name": "clara automl", "mlflow.source.type": "LOCAL"}
            mlflow.create(f"automl {search.get('run_id')}", tags, flatten(dict(search)))
            found = self._earliest(key)
            if found is not None and found.info.run_id != mlflow.run_id:
                mlflow.client.delete_run(mlflow.run_id)  # another process made one first
        else:
            mlflow.client.update_run(found.info.run_id, status="RUNNING")
        if found is not None:
            mlflow.run_id = found.info.run_id
            best = found.data.metrics.get("best_score")
            self.best = float(best) if best is not None else None

    def _earliest(self, key: str) -> Any:
        runs = self.mlflow.client.search_runs(
            [self.mlflow.experiment_id], filter_string=f"tags.`{SEARCH_TAG}` = '{key}'",
            order_by=["attributes.start_time ASC"], max_results=1)
        return runs[0] if runs else None

    def trial_env(self) -> dict[str, str]:
        """What each trial's ``clara train`` needs to log under this run."""
        return {"MLFLOW_TRACKING_URI": self.store.uri, "MLFLOW_EXPERIMENT_NAME": self.experiment,
                PARENT_ENV: str(self.mlflow.run_id)}

    def trial_ended(self, trial: int, state: str, score: float | None, epochs: int) -> None:
        """Trial ``trial``'s score (when it has one) and the best so far, at its step."""
        values = {"epochs": float(epochs)}
        if score is not None and math.isfinite(score):
            values["score"] = float(score)
            if state == "complete":
                self.best = score if self.best is None else max(self.best, score)
        if self.best is not None:
            values["best_score"] = self.best
        self.mlflow.log_metrics(trial, values)
        self.mlflow.log_tags({f"clara.trial.{trial:03d}": state})

    def end(self, result: Mapping[str, Any]) -> None:
        """The counts per state as tags; FINISHED, or KILLED when interrupted (a resumed
        search sets it running again)."""
        self.mlflow.log_tags({f"clara.trials_{k}": str(v) for k, v in result.items()
                              if k in ("complete", "pruned", "failed")})
        if result.get("best_trial") is not None:
            self.mlflow.log_tags({"clara.best_trial": str(result["best_trial"])})
        self.mlflow.terminate("KILLED" if result.get("interrupted") else "FINISHED")


__all__ = ["PARENT_ENV", "SEARCH_TAG", "SearchRun", "search_key"]
