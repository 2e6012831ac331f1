"""``clara automl`` end to end on generated data: trials are MMARs trained by clara train."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_clara
from train_mmar import make_train_mmar

CONFIGS = Path(__file__).parent / "automl_configs"


def search_mmar(root: Path, max_rounds: int = 2, controller: str = "TPEController",
                epochs: int = 2, **automl) -> Path:
    """A small MMAR whose train config searches the learning rate, the network's width
    and a transform probability shared through a variable."""
    make_train_mmar(root, cases=3, epochs=epochs)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    config["search"] = [{"domain": "lr", "args": ["learning_rate"], "type": "float",
                         "targets": [0.001, 0.02]}]
    config["train"]["model"]["search"] = [{"domain": "net", "type": "enum", "args": ["filters"],
                                           "targets": [[2], [4]]}]
    flip = config["train"]["pre_transforms"][3]
    flip["args"]["probability"] = 0.5
    flip["search"] = [{"domain": "transform", "type": "float", "args": ["probability#p"],
                       "targets": [0.0, 1.0]}]
    path.write_text(json.dumps(config))
    (root / "config" / "config_automl.json").write_text(json.dumps({
        "controller": {"name": controller, "args": {"max_rounds": max_rounds, "seed": 1}},
        "handlers": [{"name": "MMARHandler", "args": {"num_mmars_to_keep": 1}},
                     {"name": "StatsHandler"}],
        "executor": {"name": "MMARExecutor", "args": {"remove_search_augs": True}},
        **automl}))
    return root


def trials(run_dir: Path) -> list[Path]:
    return sorted(p for p in run_dir.iterdir() if p.name.startswith("trial_"))


def study_states(run_dir: Path, run_id: str) -> list[tuple[str, dict]]:
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    study = optuna.load_study(study_name=run_id, storage=JournalStorage(
        JournalFileBackend(str(run_dir / "study.journal"))))
    return [(t.state.name, t.user_attrs) for t in study.trials]


def test_a_search_of_two_rounds_writes_two_standalone_trial_mmars(tmp_path):
    root = search_mmar(tmp_path / "mmar")
    out = run_clara("automl", "-m", str(root), "--set", "run_id=s1", "traceout=console",
                    isolated=True)
    assert out.returncode == 0, out.stdout + out.stderr
    run_dir = root / "automl" / "s1"
    found = trials(run_dir)
    assert [p.name for p in found] == ["trial_000", "trial_001"]
    for trial in found:
        config = json.loads((trial / "config" / "config_train.json").read_text())
        assert "search" not in json.dumps(config) and "apply" not in json.dumps(config)
        assert 0.001 <= config["learning_rate"] <= 0.02
        assert config["train"]["model"]["args"]["filters"] in (2, 4)
        assert 0.0 <= config["train"]["pre_transforms"][3]["args"]["probability"] <= 1.0
        env = json.loads((trial / "config" / "environment.json").read_text())
        assert os.path.isabs(env["DATA_ROOT"]) and env["MMAR_CKPT_DIR"] == "models"
        assert (trial / "models" / "metrics.jsonl").exists()
    assert "| trial_000 | COMPLETE |" in out.stdout and "best: trial_00" in out.stdout
    assert (run_dir / "report.png").exists() and (run_dir / "report.md").exists()
    # num_mmars_to_keep 1: only the best trial keeps its weights; configs and logs stay
    kept = [t for t in found if (t / "models" / "model_final.weights.h5").exists()]
    assert len(kept) == 1 and all((t / "models" / "metrics.jsonl").exists() for t in found)
    again = run_clara("automl", "-m", str(root), "--set", "run_id=s1", "--report")
    assert again.returncode == 0 and "| trial_001 |" in again.stdout
    # the same command on a finished search runs nothing more
    done = run_clara("automl", "-m", str(root), "--set", "run_id=s1", isolated=True)
    assert done.returncode == 0 and len(trials(run_dir)) == 2, done.stdout + done.stderr


def test_a_config_automl_with_problems_is_refused_with_their_locations(tmp_path):
    root = search_mmar(tmp_path / "mmar")
    (root / "config" / "config_automl.json").write_text(json.dumps({
        "controller": {"name": "TPEControler", "args": {"max_rounds": 2}},
        "handlers": [{"name": "MMARHandler", "args": {"num_mmars_to_kep": 2}}],
        "executor": {"name": "MyExecutor"}, "pruner": {"name": "sometimes"}}))
    out = run_clara("automl", "-m", str(root), "--set", "run_id=bad")
    assert out.returncode == 2, out.stdout + out.stderr
    for where in ("controller.name", "handlers[0].args", "executor", "pruner"):
        assert f"  - {where}" in out.stderr, out.stderr
    assert not (root / "automl" / "bad").exists()


def test_a_handler_that_raises_stops_the_search_in_one_line_naming_it(tmp_path):
    root = search_mmar(tmp_path / "mmar", max_rounds=3, epochs=1)
    (root / "custom").mkdir()
    (root / "custom" / "flaky_handler.py").write_text(
        "from automl.components.handlers.handler import Handler\n\n\n"
        "class Flaky(Handler):\n"
        "    def end_job(self, ctx):\n"
        "        raise RuntimeError('the tracking store refused the run')\n")
    automl = json.loads((root / "config" / "config_automl.json").read_text())
    automl["handlers"] += [{"name": "MMARStatsHandler"}, {"path": "flaky_handler.Flaky"}]
    (root / "config" / "config_automl.json").write_text(json.dumps(automl))
    out = run_clara("automl", "-m", str(root), "--set", "run_id=f", isolated=True)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr, out.stderr
    assert ("the search stopped: Flaky (flaky_handler).end_job raised RuntimeError: the "
            "tracking store refused the run") in out.stderr, out.stderr
    assert len(trials(root / "automl" / "f")) == 1  # no trial after the failure
    assert out.stdout.count("trial_000 ended") == 1  # StatsHandler's line, once
    assert "trial_000 MMAR" in out.stdout and "| trial_000 | COMPLETE |" in out.stdout


@pytest.mark.slow
@pytest.mark.parametrize("trainconf, automlconf", [
    ("trn_autoML_LR_LP.json", "config_automl.json"),
    ("trn_autoML_TransformProb.json", "config_automl_BYO_RandomController.json"),
])
def test_the_sdk_notebook_configs_search_two_rounds(tmp_path, trainconf, automlconf):
    root = make_train_mmar(tmp_path / "mmar", cases=3)
    for f in CONFIGS.glob("*.json"):
        config = json.loads(f.read_text())
        if "controller" in config:
            config["controller"]["args"]["max_rounds"] = 2
        (root / "config" / f.name).write_text(json.dumps(config))
    shutil.copytree(CONFIGS / "custom", root / "custom")
    out = run_clara("automl", "-m", str(root), "--set", "run_id=nb", f"trainconf={trainconf}",
                    f"automlconf={automlconf}", "workers=cpu", isolated=True)
    assert out.returncode == 0, out.stdout + out.stderr
    # two rounds ran, each a trial MMAR with no search left (their SegResnet trials on
    # the generated 20^3 cases are not yet known to train: see the report)
    found = trials(root / "automl" / "nb")
    assert len(found) == 2
    for trial in found:
        assert "search" not in (trial / "config" / "config_train.json").read_text()


def _clara_automl(root: Path, run_id: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "clara_core", "automl", "-m", str(root),
                             "--set", f"run_id={run_id}"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@pytest.mark.slow
def test_kill_9_of_the_process_group_then_the_same_command_finishes_max_rounds(tmp_path):
    root = search_mmar(tmp_path / "mmar", max_rounds=3, controller="RandomController")
    proc = _clara_automl(root, "k")
    run_dir = root / "automl" / "k"
    deadline = time.time() + 120
    while time.time() < deadline and not list(run_dir.glob("trial_001/models/metrics.jsonl")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    out = run_clara("automl", "-m", str(root), "--set", "run_id=k", isolated=True)
    assert out.returncode == 0, out.stdout + out.stderr
    states = study_states(run_dir, "k")
    finished = [a for s, a in states if s == "COMPLETE"]
    assert len(finished) == 3, states
    jobs = [a["job"] for s, a in states if "job" in a]
    assert len(jobs) == len(set(jobs)), jobs  # no job twice
    assert all(s == "FAIL" and a.get("interrupted") for s, a in states
               if s != "COMPLETE"), states


@pytest.mark.slow
def test_two_processes_on_one_journal_run_max_rounds_trials_once_each(tmp_path):
    root = search_mmar(tmp_path / "mmar", max_rounds=4, controller="RandomController")
    procs = [_clara_automl(root, "two") for _ in range(2)]
    for proc in procs:
        proc.wait(timeout=600)
        assert proc.returncode == 0, proc.stdout.read()
    states = study_states(root / "automl" / "two", "two")
    assert sum(s == "COMPLETE" for s, _ in states) == 4, states
    jobs = [a["job"] for _, a in states if "job" in a]
    assert len(jobs) == len(set(jobs)) == 4


@pytest.mark.slow
def test_a_trial_that_raises_fails_alone(tmp_path):
    root = search_mmar(tmp_path / "mmar", max_rounds=3, controller="GridController")
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    # one choice of the network's width is a value the network refuses when it is built
    config["train"]["model"]["search"][0]["targets"] = [[2], [-4]]
    path.write_text(json.dumps(config))
    out = run_clara("automl", "-m", str(root), "--set", "run_id=f", isolated=True)
    assert out.returncode == 0, out.stdout + out.stderr
    states = [s for s, _ in study_states(root / "automl" / "f", "f")]
    assert "FAIL" in states and "COMPLETE" in states and len(states) == 3, states
