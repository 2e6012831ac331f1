"""Run events as pluggy hooks: a plugin installed as a real distribution (``fx-events``,
see conftest) hears ``clara train``, ``clara validate`` and ``clara infer``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from conftest import REPO, run_clara
from train_mmar import make_train_mmar, records

from clara_core.hookspecs import hookimpl
from clara_core.testing import check_events_plugin


def events(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def train(root: Path, dists: dict[str, str], log: Path, *extra: str, **env: str):
    return run_clara("train", "-m", str(root), "--no-progress", *extra,
                     paths=[dists["fx-events"]], env={"FX_EVENTS_LOG": str(log), **env})


def test_a_plugin_hears_one_stream_of_training_events(tmp_path, fixture_dists):
    root = make_train_mmar(tmp_path / "mmar", epochs=3)
    log = tmp_path / "events.jsonl"
    out = train(root, fixture_dists, log, "--tracking", "fxtrack")
    assert out.returncode == 0, out.stdout + out.stderr
    seen = events(log)
    hooks = [e["hook"] for e in seen]
    assert hooks[0] == "clara_train_started" and hooks[-1] == "clara_train_ended"
    assert hooks.count("clara_train_started") == hooks.count("clara_train_ended") == 1
    assert seen[0]["resumed"] is False and seen[0]["epochs"] == 3
    assert seen[0]["tracking"] == ["fxtrack"] and seen[0]["plugin_dir"].endswith("plugins")
    # one epoch_ended per epoch, with the numbers metrics.jsonl holds
    ended = [e for e in seen if e["hook"] == "clara_epoch_ended"]
    assert [e["epoch"] for e in ended] == [1, 2, 3]
    for event, row in zip(ended, records(root / "models"), strict=True):
        assert event["metrics"] == {k: float(v) for k, v in row.items()}
    validated = [e for e in seen if e["hook"] == "clara_validation_ended"]
    assert [e["epoch"] for e in validated] == [1, 2, 3]
    assert all("mean_dice" in e["metrics"] for e in validated)
    saved = [e for e in seen if e["hook"] == "clara_checkpoint_saved"]
    assert all(e["exists"] for e in saved), "a path exists when its hook runs"
    assert {e["kind"] for e in saved} >= {"latest", "resume", "best", "final", "model"}
    assert seen[-1] == {"hook": "clara_train_ended", "epochs": 3, "interrupted": False,
                        "error": None}


@pytest.mark.slow  # several processes: the slow tier
def test_a_raising_hook_stops_like_ctrl_c_and_names_the_plugin(tmp_path, fixture_dists):
    root = make_train_mmar(tmp_path / "mmar", epochs=3)
    log = tmp_path / "events.jsonl"
    out = train(root, fixture_dists, log, FX_EVENTS_RAISE="clara_epoch_ended:1")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    message = out.stderr.strip().splitlines()[-1]
    assert "fx-events:listener" in message and "clara_epoch_ended" in message
    assert "the listener broke on purpose" in message and "--resume" in message
    state = json.loads((root / "models" / "train_state.json").read_text())
    assert state["epoch"] == 1, "the resume point covers the epoch whose hook failed"
    assert events(log)[-1]["hook"] == "clara_train_ended"
    # nothing lost: the same command with --resume finishes the run
    again = train(root, fixture_dists, log, "--resume")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [r["epoch"] for r in records(root / "models")] == [1, 2, 3]
    resumed = [e for e in events(log) if e["hook"] == "clara_train_started"][-1]
    assert resumed["resumed"] is True


def test_validate_and_infer_events(trained_copy, tmp_path, fixture_dists):
    log = tmp_path / "events.jsonl"
    env = {"FX_EVENTS_LOG": str(log)}
    (trained_copy / "config" / "config_validation.json").write_text(json.dumps({
        "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}},
        "model_loader": {"name": "CheckpointLoader"},
        "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
                           {"name": "ConvertToChannelsFirst",
                            "args": {"fields": ["image", "label"]}}],
        "post_transforms": [{"name": "ArgmaxAcrossChannels", "args": {"fields": "model"}}],
        "val_metrics": [{"name": "ComputeAverageDice",
                         "args": {"name": "mean_dice", "field": "model",
                                  "label_field": "label", "is_key_metric": True}}]}))
    out = run_clara("validate", "-m", str(trained_copy), "--key", "validation",
                    paths=[fixture_dists["fx-events"]], env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    seen = events(log)
    assert [e["hook"] for e in seen] == ["clara_validate_started", "clara_case_validated",
                                         "clara_validate_ended"]
    assert seen[1]["case"] == "image2.nii.gz" and 0 <= seen[1]["metrics"]["mean_dice"] <= 1
    assert seen[2]["metrics"]["mean_dice"] == seen[1]["metrics"]["mean_dice"]

    log.unlink()
    scans = tmp_path / "scans"
    scans.mkdir()
    nib.save(nib.Nifti1Image(np.zeros((20, 20, 20), np.float32), np.eye(4)),
             scans / "a.nii.gz")
    (scans / "broken.nii.gz").write_bytes(b"not a nifti file")
    out = run_clara("infer", "-m", str(trained_copy), "-i", str(scans), "-o",
                    str(tmp_path / "segs"), "--no-progress",
                    paths=[fixture_dists["fx-events"]], env=env)
    assert out.returncode == 1, out.stdout + out.stderr  # one input failed
    seen = events(log)
    assert seen[0]["hook"] == "clara_infer_started" and len(seen[0]["inputs"]) == 2
    cases = {Path(e["case"]).name: e for e in seen if e["hook"] == "clara_case_inferred"}
    assert cases["a.nii.gz"]["written"] and cases["a.nii.gz"]["error"] is None
    assert not cases["broken.nii.gz"]["written"] and cases["broken.nii.gz"]["error"]
    assert seen[-1] == {"hook": "clara_infer_ended",
                        "result": {"written": 1, "skipped": 0, "failed": 1}}


@pytest.mark.slow  # a pip install: the slow tier
def test_the_guides_example_plugin_installs_and_keeps_notes(tmp_path):
    """examples/clara-run-notes, as docs/byoc/08-run-events.md shows it, pip-installed."""
    example = REPO / "examples" / "clara-run-notes"
    source = (example / "src" / "clara_run_notes" / "plugin.py").read_text()
    assert source in (REPO / "docs" / "byoc" / "08-run-events.md").read_text()
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--disable-pip-version-check", "--target",
                    str(site), str(example)], check=True, capture_output=True)
    root = make_train_mmar(tmp_path / "mmar", epochs=2)
    out = run_clara("train", "-m", str(root), "--no-progress", paths=[str(site)])
    assert out.returncode == 0, out.stdout + out.stderr
    notes = (root / "models" / "plugins" / "run_notes.jsonl").read_text().splitlines()
    assert [json.loads(n)["epoch"] for n in notes] == [1, 2]
    assert "run notes: best mean_dice" in out.stdout


def test_an_unknown_tracker_is_a_config_problem(tmp_path):
    root = make_train_mmar(tmp_path / "mmar", epochs=1)
    out = run_clara("config", "check", "-m", str(root), "--tracking", "mlfow")
    assert out.returncode == 2
    assert "tracking[0]: unknown tracker 'mlfow'" in out.stderr, out.stderr


def test_the_kit_checks_an_events_plugins_hook_names_and_arguments():
    class Good:
        @hookimpl
        def clara_train_ended(self, result): ...

    class WrongArgument:
        @hookimpl
        def clara_epoch_ended(self, epoch, loss): ...

    check_events_plugin(Good())
    with pytest.raises(AssertionError, match="loss"):
        check_events_plugin(WrongArgument())
