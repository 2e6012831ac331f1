"""Keys the SDK ignored: a key starting with ``_`` anywhere is a comment, not read."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from conftest import run_clara
from train_mmar import CONFIG, make_train_mmar

from clara_core.config.builder import build_config
from clara_core.config.loader import load_config
from clara_core.config.schema import build_schema
from clara_core.registry.registry import Registry


def commented() -> dict:
    """The test config with comments everywhere the SDK's users put them."""
    config = copy.deepcopy(CONFIG)
    config["_comment"] = "spleen, 16^3 crops"
    config["___search"] = [{"domain": "lr", "type": "float", "args": ["learning_rate"],
                            "targets": "not even a list"}]  # a disabled AutoML search
    train = config["train"]
    train["__model"] = {"name": "NoSuchNet", "args": {"num_classes": "two"}}  # disabled
    train["model"]["___search"] = [{"type": "enum", "args": ["no_such_arg"]}]  # as the SDK's
    # Tensorflow-Deprecated/AutoML/config/trn_autoML_AMP.json disables its searches
    train["_aux_ops"] = train.pop("aux_ops")  # a renamed section
    train["loss"]["_note"] = "SDK default"
    train["model"]["args"]["_filters_were"] = 32
    train["pre_transforms"][0]["args"]["__fields"] = 7
    config["validate"]["metrics"][0]["_why"] = {"anything": [1, {"nested": None}]}
    return config


EXPECTED = ["_comment", "___search", "train.__model", "train.model.___search",
            "train.loss._note",
            "train.model.args._filters_were", "train.pre_transforms[0].args.__fields",
            "train._aux_ops", "validate.metrics[0]._why"]


def test_comment_keys_anywhere_are_one_notice_and_not_built(tmp_path):
    root = make_train_mmar(tmp_path, cases=2, **{})
    (root / "config" / "config_train.json").write_text(json.dumps(commented()))
    loaded = load_config(str(root / "config" / "config_train.json"),
                         str(root / "config" / "environment.json"), mmar_root=str(root))
    assert sorted(loaded.comments) == sorted(EXPECTED)
    built = build_config(loaded, Registry())
    notices = [n for n in built.notices if "is a comment" in n]
    assert len(notices) == 1 and all(place in notices[0] for place in EXPECTED), built.notices
    assert built.get("train", "aux_ops") in (None, [])  # the renamed section is not built
    assert type(built.get("train", "model")).__name__ == "Unet"


def test_a_set_of_a_comment_key_stays_a_comment(tmp_path):
    root = make_train_mmar(tmp_path, cases=2)
    (root / "config" / "config_train.json").write_text(json.dumps(commented()))
    loaded = load_config(str(root / "config" / "config_train.json"),
                         str(root / "config" / "environment.json"),
                         ["train.__model.name=AlsoNoSuchNet", "train._new_note=1"], str(root))
    assert "__model" not in loaded.config["train"] and "_new_note" not in loaded.config["train"]
    assert {"train.__model", "train._new_note"} <= set(loaded.comments)


def test_config_check_prints_one_notice_and_no_error(tmp_path):
    root = make_train_mmar(tmp_path, cases=2)
    (root / "config" / "config_train.json").write_text(json.dumps(commented()))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 0, check.stdout + check.stderr
    lines = [line for line in check.stdout.splitlines() if "is a comment" in line]
    assert len(lines) == 1 and "notice:" in lines[0] and "train.__model" in lines[0]
    assert "NoSuchNet" not in check.stdout + check.stderr


@pytest.mark.parametrize("change, where", [
    (lambda c: c.update(epcohs=3), "did you mean 'epochs'"),
    (lambda c: c["train"].update(pre_transform=[]), "pre_transform"),
    (lambda c: c["train"]["loss"]["args"].update(skip_backgrund=True), "skip_backgrund"),
])
def test_a_near_miss_of_a_real_key_stays_an_error(tmp_path, change, where):
    root = make_train_mmar(tmp_path, cases=2)
    config = commented()
    change(config)
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 2 and where in check.stderr, check.stdout + check.stderr


def test_the_json_schema_takes_comment_keys_and_still_refuses_typos():
    schema = build_schema(Registry())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert list(validator.iter_errors(commented())) == []
    config = commented()
    config["train"]["loss"]["args"]["skip_backgrund"] = True
    assert list(validator.iter_errors(config)) != []
