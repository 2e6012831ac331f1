"""The logging process: ``python -m clara_mlflow.child``, started by a tracked run.

It reads one operation per line (JSON) on its standard input, runs them in order
through :class:`~clara_mlflow.mlflow_run.MlflowRun`, and answers on its standard
output: ``{"ok": i}`` for each operation done, ``{"failure": "..."}`` once (it runs
nothing after that), ``{"done": true}`` at the end. It runs apart from the training
process, at a lower priority, so MLflow's import, its store and its calls take
neither the training's interpreter lock nor its CPU time.

If the training process dies (kill -9), the logger stops before its next operation,
so the resumed run is the only one writing to the MLflow run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import IO, Any

from clara_mlflow import run_file
from clara_mlflow.mlflow_run import MlflowRun
from clara_mlflow.store import Store
from clara_mlflow.values import versions
from clara_mlflow.worker import describe

#: the logger's niceness above the training's (POSIX)
NICENESS = 10


def handle(mlflow: MlflowRun, op: dict[str, Any]) -> None:
    """Run one operation."""
    kind = op["op"]
    if kind == "train":
        open_training(mlflow, op)
    elif kind == "validate":
        mlflow.connect()
        mlflow.create(op["run_name"], op["tags"], {**op["params"], **versions()})
    elif kind == "backfill":
        mlflow.backfill(op["metrics_log"], op["epochs_done"])
    elif kind == "epoch":
        mlflow.log_epoch(op["epoch"], op["values"])
    elif kind == "metrics":
        mlflow.log_metrics(op["step"], op["values"])
    elif kind == "artifact":
        mlflow.log_artifact(op["path"], op.get("folder"))
    elif kind == "cases":
        mlflow.log_cases([(case, values) for case, values in op["rows"]], op["folder"])
    elif kind == "end":
        mlflow.terminate(op["status"])
    else:
        raise ValueError(f"unknown operation {kind!r}")


def open_training(mlflow: MlflowRun, op: dict[str, Any]) -> None:
    """A training run's MLflow run: the one ``mlflow.json`` names when resumed (found by
    id, else by its ``clara.uid`` tag), else a new one; ``mlflow.json`` written first
    with the uid (a kill before the run exists finds it again), then with the id."""
    path, uid, resumed = op["record_path"], op["uid"], op["resumed"]
    saved = run_file.RunRecord(**op["saved"]) if op["saved"] else None
    params = {**op["params"], **versions()}
    mlflow.connect()
    if path:
        run_file.write(path, run_file.RunRecord(uid, mlflow.store.uri, mlflow.experiment_id,
                                                saved.run_id if resumed and saved else None))
    found = mlflow.find(saved.run_id, uid) if resumed and saved else None
    if found is not None:
        mlflow.reopen(found, op["tags"], params)
    else:
        if saved is not None and not resumed:
            mlflow.end_abandoned(saved.run_id, saved.uid)
        mlflow.create(op["run_name"], {**op["tags"], "clara.uid": uid}, params)
    if path:
        run_file.write(path, run_file.RunRecord(uid, mlflow.store.uri, mlflow.experiment_id,
                                                mlflow.run_id))


def serve(lines: Any, answer: IO[str], parent: int) -> None:
    """Run the operations of ``lines`` (the first line: the store); answer on ``answer``."""

    def say(**message: Any) -> None:
        answer.write(json.dumps(message) + "\n")
        answer.flush()

    failure: str | None = None
    mlflow: MlflowRun | None = None
    for line in lines:
        if parent and os.getppid() != parent:
            return  # the training process died: its resumed run takes over
        op = json.loads(line)
        if mlflow is None:
            mlflow = MlflowRun(Store(**op["store"]), op["experiment"])
            continue
        if failure is None:
            try:
                handle(mlflow, op)
                say(ok=op["i"], run_id=mlflow.run_id)
            except Exception as exc:  # noqa: BLE001 (reported to the run, which goes on)
                failure = describe(exc)
                say(failure=failure)
        if op["op"] == "end":
            break
    say(done=True)


def main() -> None:
    parent = os.getppid()
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever MLflow prints goes to the log, never into the answers
    sys.stdout = sys.stderr
    if hasattr(os, "nice"):
        try:
            os.nice(NICENESS)
        except OSError:
            pass
    print(f"clara-mlflow logger {os.getpid()} started {time.ctime()}", file=sys.stderr)
    serve(sys.stdin, answer, parent)


if __name__ == "__main__":
    main()
