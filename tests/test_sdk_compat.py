"""The SDK's documented API (docs/sdk/facts.json): every row works, the table is fresh."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_clara
from train_mmar import make_train_mmar

from clara_core.config.builder import ConfigBuilder
from clara_core.config.loader import load_config
from clara_core.registry.registry import Registry


def _tool():
    spec = importlib.util.spec_from_file_location("sdk_compat", REPO / "tools" / "sdk_compat.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
FACTS = TOOL.load_facts()


def test_every_documented_row_is_supported_or_a_notice_and_the_table_is_fresh():
    rows = TOOL.rows(FACTS)
    assert [r for r in rows if r.status == "missing"] == []
    assert (REPO / "docs" / "sdk-compatibility.md").read_text() == TOOL.render(rows), \
        "docs/sdk-compatibility.md is stale: run python tools/sdk_compat.py"


def test_the_facts_name_their_sources():
    sources = FACTS["sources"]
    for fact in FACTS["components"] + FACTS["settings"]:
        assert fact["source"].split(":")[0].split(" ")[0] in sources, fact


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A small MMAR whose environment the pipelines' datalists and outputs resolve in."""
    root = make_train_mmar(tmp_path_factory.mktemp("facts"), cases=2)
    return load_config(str(root / "config" / "config_train.json"),
                       str(root / "config" / "environment.json"), mmar_root=str(root))


@pytest.mark.parametrize("fact", FACTS["components"], ids=lambda f: f"{f['kind']}-{f['name']}")
def test_each_component_builds_from_its_documented_defaults(fact, loaded):
    """Through the config builder, as a config entry: SDK names, aliases and notices."""
    args = {k: v for k, v in {**fact.get("required", {}), **fact.get("used", {}),
                              **fact.get("args", {})}.items()
            if not (isinstance(v, float) and math.isnan(v))}
    args = json.loads(json.dumps(args).replace("{DATASET_JSON}", loaded.env["DATASET_JSON"])
                      .replace("{DATA_ROOT}", loaded.env["DATA_ROOT"])
                      .replace("{MMAR_CKPT_DIR}", "models")
                      .replace("{MMAR_EVAL_OUTPUT_PATH}", "eval"))
    builder = ConfigBuilder(Registry())
    if "renamed" in fact:  # a TLT name: refused in one line naming the new component
        with pytest.raises(Exception) as error:
            builder.create(fact["kind"], {"name": fact["name"], "args": args}, loaded)
        assert str(error.value).count("\n  - ") == 1 and f"of {fact['renamed']!r}" in \
            str(error.value)
        return
    component = builder.create(fact["kind"], {"name": fact["name"], "args": args}, loaded)
    assert type(component).__name__ == fact["name"]
    no_effect = type(component).no_effect_args
    if any(k in no_effect for k in args):
        assert len(builder.notices) == 1 and "has no effect" in builder.notices[0]
    else:
        assert builder.notices == []


def test_sdk_argument_names_and_ours_are_one_argument(loaded):
    builder = ConfigBuilder(Registry())
    adam = builder.create("optimizer", {"name": "Adam", "args": {"beta1": 0.8}}, loaded)
    assert adam.beta_1 == 0.8
    with pytest.raises(Exception, match="same argument"):
        builder.create("optimizer", {"name": "Adam", "args": {"beta1": 0.8, "beta_1": 0.9}},
                       loaded)


AUTOML = {
    "epochs": 1, "train_summary_recording_interval": 1, "learning_rate": 1e-3,
    "search": [{"domain": "lr", "args": ["learning_rate"], "type": "float",
                "targets": [1e-4, 1e-3]},
               # the variables the entries below apply (an undefined one is an error)
               {"domain": "transform", "type": "enum", "args": ["loss1", "loss2"],
                "targets": [[False, True], [True, False]]},
               {"domain": "transform", "type": "float", "args": ["myProb"],
                "targets": [0.0, 0.5]}],
}


def test_an_automl_config_checks_with_one_notice_and_trains_its_default_choices(tmp_path):
    root = make_train_mmar(tmp_path, cases=3)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    config.update(AUTOML)
    train = config["train"]
    # alternatives switched by the search: the first enabled one is the default
    train["loss"] = [{**train["loss"], "apply": {"@disabled": "loss1"}},
                     {"name": "NotInstalledLoss", "apply": {"@disabled": "loss2"}}]
    train["optimizer"] = [{"name": "Adam", "disabled": True}, {"name": "NovoGrad"}]
    train["model"]["search"] = [{"type": "enum", "args": ["num_classes"], "targets": [[2]],
                                 "domain": "net"}]
    train["pre_transforms"][-1]["apply"] = {"probability": "myProb"}
    # the AutoML notebooks' aux op and the metric that reads its tag; tags per class too
    train["aux_ops"] = [
        {"name": "DiceMaskedOutput", "args": {"skip_background": True, "tags": ["dice_tc"],
                                              "data_format": "channels_last"}},
        {"name": "DiceMaskedOutput", "args": {"skip_background": False,
                                              "tags": ["dice_bg", "dice_fg"],
                                              "data_format": "channels_last"}}]
    config["validate"]["metrics"].append(
        {"name": "ComputeAverage", "args": {"name": "mean_dice_tc", "field": "dice_tc"}})
    path.write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("notice: AutoML") == 1 and "search, train.loss" in check.stdout
    out = run_clara("train", "-m", str(root))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "training with the config's default choices" in out.stdout
    assert (root / "models" / "model_final.keras").exists()
    record = json.loads((root / "models" / "metrics.jsonl").read_text().splitlines()[-1])
    assert {"dice_tc", "dice_bg", "dice_fg", "mean_dice_tc"} <= set(record), record
    logs = list((root / "models" / "logs").iterdir())
    assert logs, "TensorBoard logs with step points (train_summary_recording_interval)"


def test_every_alternative_disabled_is_the_missing_section(tmp_path):
    root = make_train_mmar(tmp_path, cases=2)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    config["train"]["loss"] = [{"name": "Dice", "disabled": True}]
    path.write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode != 0 and "train.loss: missing" in check.stderr, check.stderr


@pytest.mark.slow
def test_a_train_config_from_the_sdk_runs_with_its_command_line(tmp_path):
    """commands/train.sh, then train_finetune.sh: -m, -c, -e and one --set with several
    pairs; MMAR_CKPT_DIR a folder the script made and copied the config into."""
    root = make_train_mmar(tmp_path, cases=3)
    run_dir = root / "models" / "trn_base"
    run_dir.mkdir(parents=True)
    (run_dir / "config_train.json").write_text((root / "config" / "config_train.json")
                                               .read_text())
    out = run_clara("train", "-m", str(root), "-c", "config/config_train.json",
                    "-e", "config/environment.json", "--set", "epochs=1",
                    "learning_rate=0.0001", "num_training_epoch_per_valid=1", "multi_gpu=false",
                    "MMAR_CKPT_DIR=models/trn_base", cwd=str(Path(root).parent))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "trained epochs 1-1" in out.stdout
    assert (run_dir / "model_final.weights.h5").exists()
    assert (run_dir / "config_train.json").read_text() == \
        (root / "config" / "config_train.json").read_text()  # the script's copy is kept
    finetune = run_clara("train", "-m", str(root), "-c", "config/config_train.json",
                         "-e", "config/environment.json", "--set",
                         f"MMAR_CKPT={run_dir / 'model_final.weights.h5'}", "epochs=1",
                         f"MMAR_CKPT_DIR={root / 'models' / 'finetuned'}")
    assert finetune.returncode == 0, finetune.stdout + finetune.stderr
    assert "fine-tuning from" in finetune.stdout
    assert (root / "models" / "finetuned" / "model_final.weights.h5").exists()


@pytest.mark.parametrize("config, word", [
    ({"servers": [{"name": "spleen", "service": {}}],
      "client": {"local_epochs": 5, "model_reader_writer": {"name": "TFModelReaderWriter"}}},
     "federated"),
    ({"handlers": [{"name": "MMARHandler", "args": {"train_config_file": "{trainconf}"}}],
      "executor": {"name": "MMARExecutor"}, "controller": {"name": "ReinforcementController"}},
     "AutoML"),
], ids=["federated_client", "automl_controller"])
def test_the_sdks_configs_for_other_tools_are_refused_in_one_line(tmp_path, config, word):
    root = make_train_mmar(tmp_path, cases=2)
    (root / "config" / "other.json").write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root), "-c", "config/other.json")
    assert check.returncode != 0
    problems = [line for line in check.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) == 1 and word in problems[0], check.stderr


def test_plain_unknown_top_level_keys_are_named_and_near_misses_refused(tmp_path):
    """The SDK kept any top-level key as a global variable (print_conf, ...)."""
    root = make_train_mmar(tmp_path, cases=2)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    path.write_text(json.dumps({**config, "print_conf": True, "cudnn_benchmark": False}))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 0, check.stderr
    assert "ignored, no clara setting has these names: print_conf, cudnn_benchmark" \
        in check.stdout
    path.write_text(json.dumps({**config, "epcohs": 3}))
    check = run_clara("config", "check", "-m", str(root))
    assert check.returncode == 2 and "did you mean 'epochs'" in check.stderr


def test_every_fields_argument_takes_a_field_or_a_list_as_the_sdk_did():
    from clara_core.config.jsontypes import json_value_ok
    from clara_core.config.signature import constructor_parameters
    from clara_core.registry.kinds import KINDS

    registry = Registry()
    for kind in KINDS:
        for name in registry.names(kind):
            params, hints, _ = constructor_parameters(registry.resolve(kind, name))
            if "fields" in params:
                annotation = hints.get("fields", params["fields"].annotation)
                for value in ("image", ["image", "label"]):
                    assert json_value_ok(value, annotation), (kind, name, value)


def test_the_sdk_crop_takes_an_image_field_and_its_batch_size(loaded):
    crop = ConfigBuilder(Registry()).create("transform", {"name": "CropByPosNegRatio", "args": {
        "size": [8, 8, 8], "fields": "image", "label_field": "label", "batch_size": 2}}, loaded)
    assert crop.fields == ["image", "label"] and crop.num_samples == 2


def test_a_refused_value_is_one_line_naming_what_works(loaded):
    builder = ConfigBuilder(Registry())
    net = builder.create("model", {"name": "Alexnet", "args": {"num_classes": 2, "mil": False}},
                         loaded)
    assert type(net).__name__ == "Alexnet"
    with pytest.raises(Exception) as error:
        builder.create("model", {"name": "Alexnet", "args": {"num_classes": 2, "mil": True}},
                       loaded)
    text = str(error.value)
    assert "model.args.mil: model Alexnet works only with mil false here" in text
    assert "multiple-instance learning is not built" in text and text.count("\n  - ") == 1


def test_every_installed_component_says_what_it_is():
    """Its own docstring (`clara components show` prints it; doctests run from it)."""
    from clara_core.registry.kinds import KINDS

    registry = Registry()
    undocumented = [(kind, name) for kind in KINDS for name in registry.names(kind)
                    if not registry.resolve(kind, name).__dict__.get("__doc__")]
    assert undocumented == []
