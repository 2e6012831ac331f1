"""``clara plugin new`` end to end: generate, pip install, list, train with it, run its tests."""

from __future__ import annotations

import json

import pytest
from conftest import run_clara
from fresh_env import FreshEnv
from train_mmar import make_train_mmar, records


@pytest.mark.slow
def test_new_plugin_installs_lists_trains_and_passes_its_own_tests(tmp_path):
    out = run_clara("plugin", "new", "clara-acme", "--dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    plugin = tmp_path / "clara-acme"
    assert (plugin / "pyproject.toml").exists() and (plugin / "README.md").exists()

    env = FreshEnv(tmp_path / "env")
    env.install(plugin)
    listed = env.clara("components", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = {(c["name"], c["distribution"]) for c in json.loads(listed.stdout)}
    for name in ("BrierLoss", "RandomIntensityScale", "TinyNet", "ComputeVolumeRatio"):
        assert (name, "clara-acme") in names

    mmar = make_train_mmar(tmp_path / "mmar", epochs=1)
    config = json.loads((mmar / "config" / "config_train.json").read_text())
    train = config["train"]
    train["loss"] = {"name": "BrierLoss", "args": {"data_format": "channels_last"}}
    train["model"] = {"name": "TinyNet", "args": {"num_classes": 2,
                                                  "data_format": "channels_last"}}
    train["pre_transforms"].append({"name": "RandomIntensityScale", "args": {"fields": "image"}})
    config["validate"]["metrics"].append({"name": "ComputeVolumeRatio",
                                          "args": {"name": "volume_ratio"}})
    (mmar / "config" / "config_train.json").write_text(json.dumps(config))
    trained = env.clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert "volume_ratio" in records(mmar / "models")[-1]

    tests = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=plugin)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "passed" in tests.stdout


def test_new_plugin_refuses_an_existing_folder_and_a_bad_name(tmp_path):
    (tmp_path / "clara-acme").mkdir()
    out = run_clara("plugin", "new", "clara-acme", "--dir", str(tmp_path))
    assert out.returncode == 2 and "already exists" in out.stderr
    assert not any((tmp_path / "clara-acme").iterdir()), "nothing written"
    out = run_clara("plugin", "new", "Acme_Losses", "--dir", str(tmp_path))
    assert out.returncode == 2 and "Invalid plugin name" in out.stderr
    out = run_clara("plugin", "new", "clara-x", "--kinds", "loss,widget", "--dir", str(tmp_path))
    assert out.returncode == 2 and "choose from loss, transform, model, metric" in out.stderr


def test_new_events_plugin_passes_the_kit_and_hears_a_run(tmp_path):
    """clara plugin new --kinds events: a module of run-event hooks, checked by the kit."""
    import importlib.util
    import sys

    import pluggy

    import clara_core.hookspecs as hookspecs
    from clara_core import RunState
    from clara_core.testing import check_events_plugin
    from clara_core.workflow.events import RunEvents

    out = run_clara("plugin", "new", "clara-acme-events", "--kinds", "events",
                    "--dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    root = tmp_path / "clara-acme-events"
    assert '[project.entry-points."clara.plugins"]' in (root / "pyproject.toml").read_text()
    spec = importlib.util.spec_from_file_location(
        "acme_events", root / "src" / "clara_acme_events" / "events.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check_events_plugin(module)
    assert "check_events_plugin" in (root / "tests" / "test_conformance.py").read_text()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(module, name="clara-acme-events:clara_acme_events")
    lines: list[str] = []
    RunEvents(RunState(epochs=1, log=lines.append), pm.hook).call(
        "clara_epoch_ended", epoch=1, metrics={"loss": 0.25})
    assert lines == ["clara-acme-events: epoch 1 loss 0.2500"]
    assert "acme_events" not in sys.modules
