"""``clara config schema``: the shipped configs validate, misspellings do not."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest
from conftest import REPO, run_clara
from train_mmar import CONFIG

EXAMPLES = [REPO / "examples" / "brain-tissue-seg" / "config" / "config_train.json",
            REPO / "examples" / "byoc" / "config" / "config_train.json"]


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    out = run_clara("config", "schema", "-o", str(path))
    assert out.returncode == 0, out.stderr
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.parent.parent.name)
def test_shipped_configs_validate(validator, path):
    errors = list(validator.iter_errors(json.loads(path.read_text())))
    assert not errors, [e.message[:300] for e in errors]


def test_test_config_with_aux_ops_and_refs_validates(validator):
    assert not list(validator.iter_errors(CONFIG))


@pytest.mark.parametrize("change, where", [
    (lambda c: c["train"]["loss"]["args"].update(smoth=1.0), ["train", "loss"]),
    (lambda c: c["train"]["model"].update(name="Unett"), ["train", "model"]),
    (lambda c: c["train"]["model"]["args"].update(depth="three"), ["train", "model"]),
    (lambda c: c["train"]["model"]["args"].pop("num_classes"), ["train", "model"]),
    (lambda c: c.update(epochs="ten"), ["epochs"]),
], ids=["misspelt-argument", "unknown-name", "wrong-type", "missing-required", "bad-setting"])
def test_mistakes_do_not_validate(validator, change, where):
    config = copy.deepcopy(CONFIG)
    change(config)
    errors = list(validator.iter_errors(config))
    assert errors and list(errors[0].path)[:len(where)] == where


def test_variables_aliases_and_qualified_names_validate(validator):
    config = copy.deepcopy(CONFIG)
    config["epochs"] = "{EPOCHS}"
    config["train"]["model"]["args"]["filters"] = "{FILTERS}"
    config["train"]["loss"]["name"] = "clara-losses:Dice#main"
    assert not list(validator.iter_errors(config))


def test_schema_documents_arguments_from_docstrings(validator):
    dice = validator.schema["$defs"]["loss.Dice"]["properties"]["args"]["properties"]
    assert dice["smooth"]["default"] == 1e-5
    assert "denominator" in dice["smooth"]["description"]


def test_the_sdks_vocabulary_validates_and_refused_values_do_not(validator):
    """Aliases, arguments without effect and AutoML keys are in the schema too."""
    config = copy.deepcopy(CONFIG)
    config["train"]["optimizer"] = {"name": "Adam", "args": {"beta1": 0.9}}
    config["train"]["image_pipeline"]["args"]["multiprocessing"] = True
    config["train"]["model"]["search"] = [{"type": "enum", "args": ["filters"]}]
    assert not list(validator.iter_errors(config))
    config["train"]["model"] = {"name": "Alexnet", "args": {"num_classes": 2, "mil": True}}
    assert list(validator.iter_errors(config))
