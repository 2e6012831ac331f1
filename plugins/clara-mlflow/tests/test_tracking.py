"""The hooks as core calls them, read back through MLflow's own client: the embedded
SQLite store, a SQLite URI and a file store; resume without duplicate steps; validate."""

from __future__ import annotations

import json
import sys

import clara_mlflow.plugin as plugin
from mlflow_helpers import (
    CONFIG,
    Training,
    artifacts,
    client,
    embedded_uri,
    expected_history,
    history,
    runs_of,
    validation_run,
)

from clara_core.testing import check_events_plugin


def test_the_plugin_passes_the_events_kit():
    check_events_plugin(plugin)
    assert plugin.clara_trackers() == ["mlflow"]


def test_a_run_that_does_not_ask_is_not_tracked(tmp_path):
    out = Training(tmp_path / "mmar", tracking=()).train(range(1, 3))
    assert out == ""
    assert not (tmp_path / "mmar" / "mlruns").exists()
    assert not (tmp_path / "mmar" / "models" / "plugins").exists()


def test_the_plugin_module_imports_no_mlflow():
    import subprocess

    code = ("import sys, clara_mlflow.plugin; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mlflow', 'sqlalchemy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_embedded_store_gets_one_run_with_params_tags_metrics_and_artifacts(tmp_path):
    mmar = tmp_path / "spleen"
    out = Training(mmar).train(range(1, 5))
    uri = embedded_uri(mmar)
    [run] = runs_of(uri, "spleen")
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    assert f"mlflow: train run {run_id} in the MMAR's embedded store {uri}" in out
    assert f"see it with: mlflow ui --backend-store-uri {uri} --port 5000" in out
    assert "warning" not in out
    params = run.data.params
    assert params["epochs"] == "4" and params["learning_rate"] == "0.01"
    assert params["train.loss.name"] == "Dice"
    assert params["train.loss.args.data_format"] == "channels_last"
    assert params["train.pre_transforms.0.args.fields"] == '["image", "label"]'
    assert params["validate.metrics.0.args.is_key_metric"] == "true"
    assert params["version.clara-core"] and params["version.clara-mlflow"] == "0.1.0"
    tags = run.data.tags
    assert tags["clara.mmar"] == str(mmar) and tags["clara.run_folder"] == str(mmar / "models")
    assert tags["clara.host"] and tags["clara.command"] == "train"
    assert history(uri, run_id) == expected_history(range(1, 5))  # the same numbers
    assert artifacts(uri, run_id) == ["training.png", "validation/mean_dice_raw.csv",
                                      "validation/mean_dice_summary.txt"]
    assert (mmar / "mlruns" / "artifacts").is_dir()  # in the MMAR, not the working folder
    record = json.loads((mmar / "models" / "plugins" / "mlflow.json").read_text())
    assert record["run_id"] == run_id and record["tracking_uri"] == uri


def test_a_sqlite_uri_keeps_its_artifacts_beside_the_database(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'store' / 'runs.db'}"
    (tmp_path / "store").mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "brain")
    out = Training(tmp_path / "mmar").train(range(1, 3))
    [run] = runs_of(uri, "brain")
    assert f"in the database {uri}, experiment 'brain'" in out
    assert history(uri, run.info.run_id) == expected_history(range(1, 3))
    assert (tmp_path / "store" / "artifacts").is_dir()
    assert not (tmp_path / "mmar" / "mlruns").exists()


def test_a_file_store_is_allowed_and_said_so(tmp_path, monkeypatch):
    store = tmp_path / "mlruns"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(store))  # a plain path
    out = Training(tmp_path / "mmar").train(range(1, 4))
    assert "MLFLOW_ALLOW_FILE_STORE=true was set" in out
    assert "warning" not in out
    uri = store.as_uri()
    [run] = runs_of(uri, "mmar")
    assert run.info.status == "FINISHED"
    assert history(uri, run.info.run_id) == expected_history(range(1, 4))
    assert "training.png" in artifacts(uri, run.info.run_id)
    assert f"mlflow ui --backend-store-uri {uri} --port 5000" in out


def test_resume_continues_the_same_run_with_every_epoch_once(tmp_path):
    mmar = tmp_path / "mmar"
    Training(mmar).train(range(1, 3), interrupted=True)  # Ctrl-C after epoch 2
    uri = embedded_uri(mmar)
    [run] = runs_of(uri, "mmar")
    assert run.info.status == "KILLED"
    out = Training(mmar, resumed=True, epochs_done=2).train(range(3, 5))
    [again] = runs_of(uri, "mmar")
    assert again.info.run_id == run.info.run_id and again.info.status == "FINISHED"
    assert again.data.tags["clara.resumes"] == "1"
    assert history(uri, run.info.run_id) == expected_history(range(1, 5))
    assert "warning" not in out


def test_resume_after_kill_9_logs_the_missing_epochs_from_metrics_jsonl(tmp_path):
    """Killed with epoch 1 in MLflow and epochs 2-3 only in metrics.jsonl (and an epoch 4
    the resume point does not cover): the resumed run logs 2-3 once, re-runs 4."""
    mmar = tmp_path / "mmar"
    first = Training(mmar).start()
    first.epoch(1)
    plugin._active.pop(id(first.run))[1].worker.close(30)  # what MLflow got before the kill
    first.epoch(2, hooks=False)
    first.epoch(3, hooks=False)
    first.epoch(4, hooks=False)
    lines = (mmar / "models" / "metrics.jsonl").read_text().splitlines()
    (mmar / "models" / "metrics.jsonl").write_text("\n".join(lines[:3]) + "\n")
    uri = embedded_uri(mmar)
    [killed] = runs_of(uri, "mmar")
    assert killed.info.status == "RUNNING"

    resumed = Training(mmar, resumed=True, epochs_done=3).start()
    resumed.epoch(4)
    out = resumed.end()
    [run] = runs_of(uri, "mmar")
    assert run.info.run_id == killed.info.run_id and run.info.status == "FINISHED"
    assert history(uri, run.info.run_id) == expected_history(range(1, 5))
    assert "warning" not in out


def test_an_epoch_the_run_has_is_not_logged_twice(tmp_path):
    """MLflow got epoch 3, the resume point covers 2: the re-run epoch 3 is skipped."""
    mmar = tmp_path / "mmar"
    first = Training(mmar).start()
    for epoch in (1, 2, 3):
        first.epoch(epoch)
    plugin._active.pop(id(first.run))[1].worker.close(30)
    resumed = Training(mmar, resumed=True, epochs_done=2).start()
    resumed.epoch(3)
    resumed.epoch(4)
    resumed.end()
    [run] = runs_of(embedded_uri(mmar), "mmar")
    assert history(embedded_uri(mmar), run.info.run_id) == expected_history(range(1, 5))


def test_a_run_killed_before_its_id_was_saved_is_found_by_its_uid(tmp_path):
    mmar = tmp_path / "mmar"
    first = Training(mmar).start()
    first.epoch(1)
    plugin._active.pop(id(first.run))[1].worker.close(30)
    path = mmar / "models" / "plugins" / "mlflow.json"
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "run_id": None}))  # as if killed right then
    Training(mmar, resumed=True, epochs_done=1).train(range(2, 4))
    [run] = runs_of(embedded_uri(mmar), "mmar")
    assert run.info.run_id == record["run_id"]
    assert history(embedded_uri(mmar), run.info.run_id) == expected_history(range(1, 4))


def test_a_new_run_after_a_kill_gets_a_run_of_its_own_and_ends_the_old_one(tmp_path):
    mmar = tmp_path / "mmar"
    first = Training(mmar).start()
    first.epoch(1)
    plugin._active.pop(id(first.run))[1].worker.close(30)
    Training(mmar).train(range(1, 3))  # not --resume: a new run
    old, new = runs_of(embedded_uri(mmar), "mmar")
    assert old.info.status == "KILLED" and new.info.status == "FINISHED"
    assert history(embedded_uri(mmar), new.info.run_id) == expected_history(range(1, 3))


def test_resume_with_changed_settings_keeps_the_first_params_and_names_the_change(tmp_path):
    mmar = tmp_path / "mmar"
    Training(mmar).train(range(1, 3), interrupted=True)
    resumed = Training(mmar, resumed=True, epochs_done=2)
    resumed.start({**CONFIG, "epochs": 6, "new_setting": 1})
    resumed.epoch(3)
    out = resumed.end()
    [run] = runs_of(embedded_uri(mmar), "mmar")
    assert run.data.params["epochs"] == "4" and run.data.params["new_setting"] == "1"
    assert run.data.tags["clara.params_changed"] == "epochs"
    assert "warning" not in out


def test_a_failed_run_ends_failed_and_a_big_config_is_logged_in_batches(tmp_path):
    config = {**CONFIG, "many": {f"k{i}": i for i in range(250)}}
    training = Training(tmp_path / "mmar")
    training.start(config)
    training.epoch(1)
    training.end(error="NaN loss at epoch 2")
    [run] = runs_of(embedded_uri(tmp_path / "mmar"), "mmar")
    assert run.info.status == "FAILED"
    assert run.data.params["many.k249"] == "249" and len(run.data.params) > 250


def test_the_final_model_is_logged_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("CLARA_MLFLOW_LOG_MODEL", "true")
    training = Training(tmp_path / "mmar").start()
    training.epoch(1)
    model = training.models / "model_final.keras"
    model.write_bytes(b"model")
    training.events.call("clara_checkpoint_saved", path=str(model), kind="model")
    training.events.call("clara_checkpoint_saved", path=str(model), kind="final")
    training.end()
    uri = embedded_uri(tmp_path / "mmar")
    [run] = runs_of(uri, "mmar")
    assert "model/model_final.keras" in artifacts(uri, run.info.run_id)


def test_validate_logs_its_metrics_cases_and_reports(tmp_path):
    mmar = tmp_path / "mmar"
    (mmar / "eval").mkdir(parents=True)
    run, events, lines = validation_run(mmar)
    config = {"val_metrics": [{"name": "ComputeAverageDice", "args": {"name": "mean_dice"}}]}
    events.call("clara_validate_started", config=config)
    events.call("clara_case_validated", case="a.nii.gz", metrics={"mean_dice": 0.5})
    events.call("clara_case_validated", case="b.nii.gz", metrics={"mean_dice": 0.7})
    (mmar / "eval" / "mean_dice_summary.txt").write_text("mean_dice: 0.6\n")
    events.call("clara_validate_ended", metrics={"mean_dice": 0.6})
    assert events.failure is None
    uri = embedded_uri(mmar)
    [found] = runs_of(uri, "mmar")
    assert found.data.tags["clara.command"] == "validate"
    assert found.data.params["val_metrics.0.name"] == "ComputeAverageDice"
    assert history(uri, found.info.run_id) == {"mean_dice": [(0, 0.6)]}
    assert artifacts(uri, found.info.run_id) == ["validation/cases.csv",
                                                 "validation/mean_dice_summary.txt"]
    path = client(uri).download_artifacts(found.info.run_id, "validation/cases.csv",
                                          str(tmp_path))
    assert open(path).read().splitlines() == ["case,mean_dice", "a.nii.gz,0.5",
                                              "b.nii.gz,0.7"]
    assert any("mlflow ui --backend-store-uri" in line for line in lines)


def test_a_run_without_its_end_event_is_ended_at_exit(tmp_path):
    training = Training(tmp_path / "mmar").start()
    training.epoch(1)
    plugin._end_all()  # what atexit runs
    [run] = runs_of(embedded_uri(tmp_path / "mmar"), "mmar")
    assert run.info.status == "FAILED"
