from __future__ import annotations

import json

import pytest
from test_broken_configs import CORPUS_DIR, make_mmar

from clara_core.config.builder import build_config
from clara_core.config.loader import load_config
from clara_core.errors import ConfigError


def write(tmp_path, config, env=None):
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "config_train.json").write_text(json.dumps(config))
    (tmp_path / "config" / "environment.json").write_text(json.dumps(env or {}))
    return str(tmp_path / "config" / "config_train.json"), str(tmp_path / "config" /
                                                               "environment.json")


def test_refs_share_the_instance_and_disabled_entries_are_dropped(tmp_path):
    case = json.loads(next(CORPUS_DIR.glob("01_*.json")).read_text())
    cfg = case["config"]
    cfg["train"]["loss"]["args"].pop("smoth")
    cfg["train"]["pre_transforms"][1]["args"]["a_max"] = "{TOP}"
    cfg["train"]["pre_transforms"].append(
        {"name": "RandomSpatialFlip", "disabled": True, "args": {"fields": "image"}})
    cfg["validate"]["pre_transforms"].append({"ref": "ScaleIntensityRange"})
    mmar = make_mmar(tmp_path, {"config": cfg, "env": {"TOP": 255}})
    loaded = load_config(str(mmar / "config" / "config_train.json"),
                         str(mmar / "config" / "environment.json"), mmar_root=str(mmar))
    built = build_config(loaded)
    train = built.get("train", "pre_transforms")
    assert len(train) == 2 and train[1].a_max == 255
    assert built.get("validate", "pre_transforms") == train  # the same instances


def test_an_entry_after_a_disabled_one_is_named_by_its_place_in_the_file(tmp_path):
    case = json.loads(next(CORPUS_DIR.glob("01_*.json")).read_text())
    cfg = case["config"]
    cfg["train"]["loss"]["args"].pop("smoth")
    cfg["train"]["pre_transforms"][0:0] = [
        {"name": "RandomSpatialFlip", "disabled": True, "args": {"fields": "{UNDEFINED}"}}]
    cfg["train"]["pre_transforms"][2]["args"]["a_maxx"] = 1
    mmar = make_mmar(tmp_path, {"config": cfg, "env": {}})
    loaded = load_config(str(mmar / "config" / "config_train.json"),
                         str(mmar / "config" / "environment.json"), mmar_root=str(mmar))
    with pytest.raises(ConfigError) as err:
        build_config(loaded)
    assert "train.pre_transforms[2].args.a_maxx" in str(err.value)


def test_set_overrides_variables_and_nested_values(tmp_path):
    path, env = write(tmp_path, {"epochs": 5, "train": {"loss": {"name": "Dice", "args": {}}}},
                      {"DATA_ROOT": "/a"})
    loaded = load_config(path, env, ["epochs=1", "DATA_ROOT=/b", "train.loss.args.smooth=0.5"])
    assert loaded.config["epochs"] == 1
    assert loaded.env["DATA_ROOT"] == "/b"
    assert loaded.config["train"]["loss"]["args"] == {"smooth": 0.5}


def test_all_problems_reported_together(tmp_path):
    path, env = write(tmp_path, {"epochs": 0, "train": {"loss": {"name": "Dise"}}})
    with pytest.raises(ConfigError) as err:
        build_config(load_config(path, env))
    locations = [p.location for p in err.value.problems]
    assert {"epochs", "train.loss.name", "train.model", "train.optimizer", "train.image_pipeline"} <= set(locations)


def test_config_strings_are_never_evaluated(tmp_path):
    path, env = write(tmp_path, {"train": {"loss": {"name": "Dice", "args": {
        "smooth": "__import__('os').system('touch pwned')"}}}})
    with pytest.raises(ConfigError, match="expects a number"):
        build_config(load_config(path, env))
    assert not (tmp_path / "pwned").exists()


def test_set_takes_several_pairs_after_one_flag_as_the_sdk_scripts_do(tmp_path):
    """The SDK's train.sh: ``--set KEY=VALUE KEY=VALUE ...``; the repeated flag works too."""
    from conftest import run_clara
    from train_mmar import make_train_mmar

    mmar = make_train_mmar(tmp_path / "mmar", cases=2)
    one_flag = run_clara("config", "check", "-m", str(mmar), "--set", "epochs=2",
                         "learning_rate=0.5", "MMAR_CKPT_DIR=runs/a")
    assert one_flag.returncode == 0, one_flag.stderr
    mixed = run_clara("config", "check", "-m", str(mmar), "--set", "epochs=0",
                      "learning_rate=-1", "--set", "multi_gpu=maybe")
    assert mixed.returncode == 2
    for text in ("epochs: expected", "learning_rate: expected", "multi_gpu: expected"):
        assert text in mixed.stderr, mixed.stderr
