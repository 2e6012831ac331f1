"""The SDK's AutoML search-space language: parsing, checking and concrete trial configs,
on the SDK's AutoML notebook configs (tests/automl_configs)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from clara_core.automl.apply import concrete_config, has_search
from clara_core.automl.space import distributions, sdk_space
from clara_core.config.automl import parse_search_space
from clara_core.config.entries import layout

CONFIGS = Path(__file__).parent / "automl_configs"
TRAIN_CONFIGS = sorted(CONFIGS.glob("trn_autoML_*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def points(spec, count: int = 6):
    rng = random.Random(0)
    for _ in range(count):
        yield {i.prl: rng.uniform(i.low, i.high) if i.type == "float"
               else rng.randrange(len(i.choices)) for i in spec.items}


def _at(cfg, loc):
    for part in loc:
        cfg = cfg[part]
    return cfg


@pytest.mark.parametrize("path", TRAIN_CONFIGS, ids=lambda p: p.stem)
def test_every_concrete_trial_config_lies_in_its_space_and_has_no_search_left(path):
    config = load(path)
    problems: list = []
    spec = parse_search_space(config, layout(False), problems)
    assert problems == [] and spec.items, problems
    assert set(distributions(spec)) == set(sdk_space(spec, "x").targets)
    for point in points(spec):
        concrete = concrete_config(config, spec, point)
        assert not has_search(concrete), concrete
        assert "search" in config or any("search" in str(v) for v in config.values())  # unchanged
        for item in spec.items:
            values = item.values(point[item.prl])
            if item.type == "float":
                assert all(item.low <= v <= item.high for v in values)
            else:
                assert values in item.choices
            for target, value in zip(item.targets, values, strict=True):
                if target.kind == "setting":
                    assert concrete[target.name] == value
                elif target.kind == "arg" and not isinstance(item.owner[-1], int) or \
                        target.kind == "arg" and item.owner[1] == "pre_transforms":
                    assert _at(concrete, item.owner)["args"][target.name] == value
        for use in spec.applies:  # the shared variable reached the component that applies it
            item_index, arg = spec.variables[use.var]
            item = spec.items[item_index]
            value = item.values(point[item.prl])[arg]
            if use.key == "@disabled" and use.owner[1] in ("loss", "optimizer"):
                continue  # an alternative: checked below
            entry = _at(concrete, use.owner)
            got = entry.get("disabled", False) if use.key == "@disabled" else \
                entry["args"][use.key]
            assert got == value, (use, entry)


def test_alternatives_switched_by_disabled_become_the_chosen_component():
    config = load(CONFIGS / "trn_autoML_Loss_Optimizer.json")
    spec = parse_search_space(config, layout(False), [])
    loss, opt = (i.prl for i in spec.items)
    chosen = concrete_config(config, spec, {loss: 0, opt: 1})["train"]
    # choice 0 disables the first loss (Dice); choice 1 disables the second optimizer
    assert chosen["loss"]["name"] == "Focal" and chosen["optimizer"]["name"] == "Adam"
    chosen = concrete_config(config, spec, {loss: 1, opt: 0})["train"]
    assert chosen["loss"]["name"] == "Dice" and chosen["optimizer"]["name"] == "NovoGrad"


def test_a_transform_disabled_by_a_search_is_written_disabled():
    config = load(CONFIGS / "trn_autoML_Transform.json")
    spec = parse_search_space(config, layout(False), [])
    point = {i.prl: 0 for i in spec.items}  # [true]: disabled
    names = {t.get("name"): t for t in concrete_config(config, spec, point)["train"]
             ["pre_transforms"]}
    assert names["RandomSpatialFlip"]["disabled"] is True
    assert names["AddGaussianNoise"]["disabled"] is True


MALFORMED = [
    (lambda c: c["search"][0].update(targets=[0.001, 0.0001]),
     "search[0].targets: min 0.001 is above max 0.0001"),
    (lambda c: c["train"]["lr_policy"]["search"][0].update(args=["poly_powr"]),
     "train.lr_policy.search[0].args[0]: unknown arg 'poly_powr' of ReducePoly"),
    (lambda c: c["train"]["lr_policy"].update(search=[{"domain": "lr", "type": "enum",
                                                        "args": ["poly_power"],
                                                        "targets": [[0.9], [0.9, 1]]}]),
     "train.lr_policy.search[0].targets[1]: a choice needs 1 value(s), one per arg, "
     "received 2 values"),
    (lambda c: c["train"]["pre_transforms"][9].update(apply={"probability": "myProbb"}),
     "train.pre_transforms[9].apply.probability: variable 'myProbb' is applied but never "
     "defined; did you mean 'myProb'?"),
    (lambda c: c["search"][0].update(domain="optimizer"),
     "search[0].domain: expected one of lr, net, transform"),
    (lambda c: c["train"]["pre_transforms"][8]["search"][0].update(args=["@enabled"]),
     "train.pre_transforms[8].search[0].args[0]: unknown attribute '@enabled'"),
]


@pytest.mark.parametrize("edit, expected", MALFORMED,
                         ids=["min_above_max", "unknown_arg", "choice_size", "undefined_var",
                              "domain", "attribute"])
def test_each_malformed_item_is_a_problem_at_its_json_location(edit, expected):
    config = load(CONFIGS / "trn_autoML_LR_LP.json")
    edit(config)
    problems: list = []
    parse_search_space(config, layout(False), problems)
    assert any(str(p).startswith(expected) for p in problems), [str(p) for p in problems]


def test_config_check_names_a_malformed_search_item_and_train_keeps_the_defaults(tmp_path):
    from conftest import run_clara
    from train_mmar import make_train_mmar

    root = make_train_mmar(tmp_path, cases=2)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    config["search"] = [{"domain": "lr", "type": "float", "args": ["learning_rate"],
                         "targets": [0.1, 0.01]}]
    config["train"]["model"]["search"] = [{"domain": "net", "type": "enum",
                                           "args": ["depth"], "targets": [[2], [3]]}]
    path.write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 2
    assert "search[0].targets: min 0.1 is above max 0.01" in check.stderr, check.stderr
    assert "train.model.search" not in check.stderr  # depth is an arg Unet takes
    config["search"][0]["targets"] = [0.01, 0.1]
    config["train"]["model"]["search"][0]["args"] = ["deepness"]
    path.write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root))
    assert "train.model.search[0].args[0]: unknown arg 'deepness'" in check.stderr


def test_sdk_controllers_and_handlers_import_the_sdk_names():
    import importlib.util
    import sys

    from clara_core.automl.sdk import Controller, Handler, install_sdk_names

    assert install_sdk_names()
    spec = importlib.util.spec_from_file_location(
        "my_automl_controller", CONFIGS / "custom" / "my_automl_controller.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert issubclass(module.RandomController, Controller)
    assert issubclass(module.MyHandler, Handler)
    assert sys.modules["automl.defs"].Recommendation.__module__ == "clara_core.automl.sdk"
