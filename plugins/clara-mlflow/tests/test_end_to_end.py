"""The real ``clara train`` and ``clara validate`` with ``--tracking mlflow``, read back
through MLflow's client: the same numbers as ``metrics.jsonl``, one run across a
``--resume``, nothing when not asked."""

from __future__ import annotations

import json

import pytest
from conftest import run_clara
from mlflow_helpers import artifacts, embedded_uri, history, runs_of
from train_mmar import make_train_mmar, records

VALIDATION = {
    "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}},
    "model_loader": {"name": "CheckpointLoader"},
    "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
                       {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}}],
    "post_transforms": [{"name": "ArgmaxAcrossChannels", "args": {"fields": "model"}}],
    "val_metrics": [{"name": "ComputeAverageDice",
                     "args": {"name": "mean_dice", "field": "model", "label_field": "label",
                              "is_key_metric": True}}],
}


def logged_as_in_metrics_jsonl(uri: str, run_id: str, models) -> None:
    expected: dict[str, list[tuple[int, float]]] = {}
    for record in records(models):
        for k, v in record.items():
            if k != "epoch":
                expected.setdefault(k, []).append((record["epoch"], float(v)))
    assert history(uri, run_id) == expected


def test_train_resume_and_validate_log_to_the_mmars_store(tmp_path):
    root = make_train_mmar(tmp_path / "mmar", cases=3, epochs=2)
    plain = run_clara("train", "-m", str(root), "--no-progress", "--set", "epochs=1")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert not (root / "mlruns").exists() and "mlflow" not in plain.stdout  # not asked

    out = run_clara("train", "-m", str(root), "--no-progress", "--tracking", "mlflow")
    assert out.returncode == 0, out.stdout + out.stderr
    uri = embedded_uri(root)
    [run] = runs_of(uri, "mmar")
    assert run.info.status == "FINISHED"
    assert f"see it with: mlflow ui --backend-store-uri {uri} --port 5000" in out.stdout
    assert "warning" not in out.stdout + out.stderr
    logged_as_in_metrics_jsonl(uri, run.info.run_id, root / "models")
    assert run.data.params["train.model.name"] == "Unet" and run.data.params["epochs"] == "2"
    assert run.data.tags["clara.run_folder"] == str(root / "models")
    assert {"training.png", "validation/mean_dice_summary.txt",
            "validation/mean_dice_raw.csv"} <= set(artifacts(uri, run.info.run_id))

    # the config's setting turns it on as well; --resume continues the same MLflow run
    config = json.loads((root / "config" / "config_train.json").read_text())
    (root / "config" / "config_train.json").write_text(json.dumps(
        {**config, "epochs": 3, "tracking": ["mlflow"]}))
    again = run_clara("train", "-m", str(root), "--no-progress", "--resume")
    assert again.returncode == 0, again.stdout + again.stderr
    [same] = runs_of(uri, "mmar")
    assert same.info.run_id == run.info.run_id and same.info.status == "FINISHED"
    assert [r["epoch"] for r in records(root / "models")] == [1, 2, 3]
    logged_as_in_metrics_jsonl(uri, run.info.run_id, root / "models")  # each epoch once

    (root / "config" / "config_validation.json").write_text(json.dumps(VALIDATION))
    val = run_clara("validate", "-m", str(root), "--key", "validation", "--tracking", "mlflow")
    assert val.returncode == 0, val.stdout + val.stderr
    train_run, val_run = runs_of(uri, "mmar")
    assert val_run.data.tags["clara.command"] == "validate"
    assert set(history(uri, val_run.info.run_id)) >= {"mean_dice"}
    assert "validation/cases.csv" in artifacts(uri, val_run.info.run_id)


@pytest.mark.slow  # several processes: the slow tier
def test_a_tracked_search_nests_each_trial_run_under_the_search_run(tmp_path):
    root = make_train_mmar(tmp_path / "liver", cases=3, epochs=1)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    config["search"] = [{"domain": "lr", "args": ["learning_rate"], "type": "float",
                         "targets": [0.001, 0.02]}]
    path.write_text(json.dumps(config))
    (root / "config" / "config_automl.json").write_text(json.dumps(
        {"controller": {"name": "RandomController", "args": {"max_rounds": 2, "seed": 1}}}))
    out = run_clara("automl", "-m", str(root), "--set", "run_id=lr", "--tracking", "mlflow")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "warning" not in out.stdout + out.stderr
    uri = embedded_uri(root)  # the trials log to the searched MMAR's store, not their own
    assert not (root / "automl" / "lr" / "trial_000" / "mlruns").exists()
    runs = runs_of(uri, "liver")
    [search] = [r for r in runs if r.data.tags.get("clara.command") == "automl"]
    children = sorted((r for r in runs if r is not search), key=lambda r: r.info.run_name)
    assert [r.info.run_name for r in children] == ["trial_000", "trial_001"]
    assert all(r.data.tags["mlflow.parentRunId"] == search.info.run_id for r in children)
    assert all(r.info.status == "FINISHED" for r in runs)
    scores = history(uri, search.info.run_id)["score"]
    assert [step for step, _ in scores] == [0, 1]
    trained = [float(history(uri, r.info.run_id)["mean_dice"][-1][1]) for r in children]
    assert [v for _, v in scores] == pytest.approx(trained)
    assert search.data.params["max_rounds"] == "2" and search.data.tags["clara.trials_complete"] == "2"

    # the same command on the finished search: the same search run, no third trial
    again = run_clara("automl", "-m", str(root), "--set", "run_id=lr", "--tracking", "mlflow")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(runs_of(uri, "liver")) == 3
