"""Helpers of clara-mlflow's tests: a training run played through the plugin's hooks as
core calls them (a RunState, metrics.jsonl, a real pluggy relay), and reading back
what was logged through MLflow's own client."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import clara_mlflow.plugin as plugin
import pluggy

import clara_core.hookspecs as specs
from clara_core.components.run_state import RunInfo, RunState
from clara_core.workflow.events import RunEvents, numbers

CONFIG: dict[str, Any] = {
    "epochs": 4, "learning_rate": 0.01, "tracking": ["mlflow"],
    "train": {"loss": {"name": "Dice", "args": {"data_format": "channels_last"}},
              "optimizer": {"name": "Adam"},
              "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image", "label"]}}]},
    "validate": {"metrics": [{"name": "ComputeAverageDice",
                              "args": {"name": "mean_dice", "is_key_metric": True}}]},
}


def metric_record(epoch: int) -> dict[str, Any]:
    """A metrics.jsonl line as core writes it (values that tell the epochs apart)."""
    record: dict[str, Any] = {"epoch": epoch, "loss": 1.0 / (epoch + 1), "lr": 0.01,
                              "steps": 3, "seconds": 0.25 + epoch / 100,
                              "train_dice": 0.1 * epoch}
    if epoch % 2 == 0:
        record["mean_dice"] = 0.05 * epoch
    return record


class Training:
    """A training run of the MMAR ``mmar`` as core plays it to the hooks: a RunState,
    metrics.jsonl lines, the picture and reports, through a real pluggy relay."""

    def __init__(self, mmar: Path, resumed: bool = False, epochs_done: int = 0,
                 tracking: tuple[str, ...] = ("mlflow",), epochs: int = 4) -> None:
        self.mmar, self.models = mmar, mmar / "models"
        (mmar / "config").mkdir(parents=True, exist_ok=True)
        (mmar / "config" / "environment.json").write_text(json.dumps(
            {"MMAR_CKPT_DIR": "models", "MMAR_EVAL_OUTPUT_PATH": "eval"}))
        self.lines: list[str] = []
        self.run = RunState(epochs, command="train", mmar=str(mmar),
                            config_file=str(mmar / "config" / "config_train.json"),
                            run_folder=str(self.models), plugin_dir=str(self.models / "plugins"),
                            tracking=tracking, resumed=resumed, log=self.lines.append)
        self.run.epochs_done = epochs_done
        pm = pluggy.PluginManager(specs.PROJECT)
        pm.add_hookspecs(specs)
        pm.register(plugin, name="clara-mlflow:mlflow")
        self.events = RunEvents(self.run, pm.hook)
        self.models.mkdir(parents=True, exist_ok=True)

    def start(self, config: dict[str, Any] | None = None) -> Training:
        if not self.run.resumed:
            (self.models / "metrics.jsonl").write_text("")
        self.events.call("clara_train_started", config=config or CONFIG)
        return self

    def epoch(self, epoch: int, hooks: bool = True) -> None:
        """Epoch ``epoch`` done: its line in metrics.jsonl, then (``hooks``) the event."""
        record = metric_record(epoch)
        with open(self.models / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        self.run.epochs_done = epoch
        if hooks:
            self.events.call("clara_epoch_ended", epoch=epoch, metrics=numbers(record))

    def end(self, interrupted: bool = False, error: str | None = None) -> str:
        """The run's end: picture and reports written, then the event; returns the log."""
        picture = None
        if not interrupted:
            picture = self.models / "training.png"
            picture.write_bytes(b"\x89PNG picture")
            (self.mmar / "eval").mkdir(exist_ok=True)
            (self.mmar / "eval" / "mean_dice_summary.txt").write_text("mean_dice: 0.2\n")
            (self.mmar / "eval" / "mean_dice_raw.csv").write_text("case,value\nc1,0.2\n")
        result = SimpleNamespace(epochs=self.run.epochs, picture=picture and str(picture),
                                 interrupted=interrupted, error=error)
        self.events.call("clara_train_ended", result=result)
        assert self.events.failure is None, self.events.failure  # the plugin never raises
        return "\n".join(self.lines)

    def train(self, epochs: range, **end: Any) -> str:
        self.start()
        for epoch in epochs:
            self.epoch(epoch)
        return self.end(**end)


def validation_run(mmar: Path, tracking: tuple[str, ...] = ("mlflow",)) -> tuple[RunInfo, Any,
                                                                                   list[str]]:
    lines: list[str] = []
    run = RunInfo(command="validate", mmar=str(mmar), run_folder=str(mmar / "eval"),
                  config_file=str(mmar / "config" / "config_validation.json"),
                  tracking=tracking, log=lines.append)
    pm = pluggy.PluginManager(specs.PROJECT)
    pm.add_hookspecs(specs)
    pm.register(plugin, name="clara-mlflow:mlflow")
    return run, RunEvents(run, pm.hook), lines


# -- reading back through MLflow ----------------------------------------------------------


def embedded_uri(mmar: Path) -> str:
    return f"sqlite:///{mmar.resolve() / 'mlruns' / 'mlflow.db'}"


def client(uri: str) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri)


def runs_of(uri: str, experiment: str) -> list[Any]:
    """Every run of ``experiment`` in the store ``uri``, oldest first."""
    c = client(uri)
    found = c.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r} in {uri}"
    return c.search_runs([found.experiment_id], order_by=["attributes.start_time ASC"])


def history(uri: str, run_id: str) -> dict[str, list[tuple[int, float]]]:
    """Every metric of the run: its (step, value) pairs in step order."""
    c = client(uri)
    keys = c.get_run(run_id).data.metrics
    return {k: sorted((m.step, m.value) for m in c.get_metric_history(run_id, k)) for k in keys}


def expected_history(epochs: range) -> dict[str, list[tuple[int, float]]]:
    """What ``history`` must read for epochs ``epochs`` of :func:`metric_record`."""
    found: dict[str, list[tuple[int, float]]] = {}
    for epoch in epochs:
        for k, v in metric_record(epoch).items():
            if k != "epoch":
                found.setdefault(k, []).append((epoch, float(v)))
    return found


def artifacts(uri: str, run_id: str) -> list[str]:
    """The run's artifact paths, folders walked."""
    c, found, folders = client(uri), [], [None]
    while folders:
        for info in c.list_artifacts(run_id, folders.pop()):
            (folders.append(info.path) if info.is_dir else found.append(info.path))
    return sorted(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
