"""The settings model: one declaration per setting, checked the same way by
``clara config check`` and by training."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
from pathlib import Path

import pytest
from conftest import run_clara
from train_mmar import make_train_mmar

from clara_core.config.builder import build_config
from clara_core.config.loader import load_config, locate
from clara_core.config.settings import (
    EvalSettings,
    TrainSettings,
    describe_settings,
    parse_settings,
)
from clara_core.errors import ConfigError

# every setting with values training cannot use (each must be refused by the check)
BAD_TRAIN: dict[str, list[object]] = {
    "epochs": [0, -1, 1.5, "ten", True, 10**7, None],
    "num_training_epoch_per_valid": [0, "2", 2.0],
    "train_summary_recording_interval": [-1, 2.5, "10", None],
    "use_tf32": ["yes", 1, None],
    "use_xla": ["no", 0],
    "use_scanning_window": ["yes", 1],
    "learning_rate": [0, -0.1, math.inf, math.nan, "1e-3", True, None],
    "multi_gpu": ["false", 1, None],
    "dynamic_input_shape": ["yes", 0],
    "use_amp": [1, "true"],
    "amp_dtype": ["float64", "fp16", 16, True],
    "names_only": ["true", 1],
    "cpu_channels_last": [0, "no"],
    "determinism": [{"random_seed": "abc"}, {"random_seed": -1}, {"random_seed": 2**32},
                    {"random_seed": 1.5}, 5, [1], "123"],
    "tracking": ["mlflow", [1], {"mlflow": True}],
}
BAD_EVAL: dict[str, list[object]] = {
    "do_validation": ["no", 0],
    "DATA_LIST_KEY": [1, None, ["validation"]],
    "output_infer_result": [1],
    "data_format": ["NCHW", 1],
    "names_only": ["yes"],
    "use_scanning_window": ["true"],
    "multi_gpu": [0],
    "use_amp": ["false"],
    "dynamic_input_shape": [None],
    "batch_size": [0, 1.5, "4"],
    "tracking": ["mlflow", [None]],
}
GOOD_TRAIN: dict[str, list[object]] = {
    "epochs": [1, 10**6], "num_training_epoch_per_valid": [1, 5],
    "learning_rate": [1e-12, 1, 10.0], "multi_gpu": [False], "dynamic_input_shape": [True, False],
    "use_amp": [True, False], "amp_dtype": ["float16", "bfloat16", None],
    "names_only": [False], "cpu_channels_last": [True, False],
    "train_summary_recording_interval": [0, 1, 10],
    "use_tf32": [True, False], "use_xla": [False], "use_scanning_window": [True, False],
    "determinism": [{"random_seed": 0}, {"random_seed": 2**32 - 1}, {}, None],
    "tracking": [[], ["mlflow"]],
}


def test_every_setting_has_bad_values_under_test():
    assert set(BAD_TRAIN) == {f.name for f in dataclasses.fields(TrainSettings)}
    assert set(BAD_EVAL) == {f.name for f in dataclasses.fields(EvalSettings)}


def test_every_setting_is_described():
    for cls in (TrainSettings, EvalSettings):
        for name, expected, _default, meaning in describe_settings(cls):
            assert expected and meaning, name


@pytest.fixture(scope="module")
def mmar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_train_mmar(tmp_path_factory.mktemp("settings"), cases=2)


def check(mmar: Path, **settings: object) -> ConfigError | None:
    """``clara config check`` in process: the builder both commands share."""
    config_path, env, root = locate(str(mmar), None, None)
    loaded = load_config(config_path, env, [], root)
    loaded.config.update(settings)
    try:
        build_config(loaded)
    except ConfigError as exc:
        return exc
    return None


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in BAD_TRAIN.items() for v in vs],
                         ids=lambda v: repr(v)[:20])
def test_bad_train_setting_fails_the_check_with_its_location(mmar, key, value):
    error = check(mmar, **{key: value})
    assert error is not None, f"{key}={value!r} passed config check"
    locations = [p.location for p in error.problems]
    assert any(loc == key or loc.startswith(key + ".") for loc in locations), locations
    text = str(error)
    assert "expected" in text or "unknown setting" in text


def test_nested_setting_names_its_full_location(mmar):
    error = check(mmar, determinism={"random_seed": "abc", "seed": 1})
    assert error is not None
    text = str(error)
    assert "determinism.random_seed: expected an integer in [0, 4294967295], received 'abc'" \
        in text
    assert "determinism.seed: unknown setting 'seed'; known settings: random_seed" in text


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in BAD_EVAL.items() for v in vs],
                         ids=lambda v: repr(v)[:20])
def test_bad_eval_setting_is_a_problem(key, value):
    problems: list = []
    parse_settings(EvalSettings, {key: value}, (), problems)
    assert [p.location for p in problems] == [key]


def test_accepted_settings_build_a_run_without_settings_errors():
    """Property: every combination of accepted values (by setting, one at a time and in
    pairs) gets through the code that turns settings into a run."""
    import numpy as np

    from clara_core.workflow.runtime import amp_dtype

    candidates = {k: GOOD_TRAIN[k] + BAD_TRAIN[k] for k in BAD_TRAIN}
    accepted = 0
    for (k1, v1s), (k2, v2s) in itertools.combinations_with_replacement(candidates.items(), 2):
        for v1, v2 in itertools.product(v1s, v2s):
            problems: list = []
            s = parse_settings(TrainSettings, {k1: v1, k2: v2}, (), problems)
            if problems:
                continue
            accepted += 1
            amp_dtype(s, has_gpu=True)  # float16 without a GPU is a machine check
            np.random.default_rng([s.seed, s.epochs])
            assert s.num_training_epoch_per_valid >= 1 and math.isfinite(s.learning_rate)
    assert accepted > 100


def test_extreme_accepted_settings_build_a_trainer(tmp_path):
    mmar = make_train_mmar(tmp_path, cases=2, epochs=10**6, learning_rate=1e-12,
                           dynamic_input_shape=False, use_amp=True, amp_dtype="bfloat16",
                           determinism={"random_seed": 2**32 - 1})
    config_path, env, root = locate(str(mmar), None, None)
    built = build_config(load_config(config_path, env, [], root))
    from clara_core.workflow.trainer import Trainer

    trainer = Trainer(built, log=lambda *a: None, progress=False)
    setup = trainer.build()
    assert trainer.state.epochs == 10**6 and setup.amp_dtype == "bfloat16"


def test_sdk_keys_without_effect_print_one_notice(tmp_path):
    (tmp_path / "config_validation.json").write_text(json.dumps({
        "use_scanning_window": True, "batch_size": 1, "multi_gpu": False,
        "inferer": {"name": "TFSimpleInferer"},
        "model_loader": {"name": "CheckpointLoader"}}))
    out = run_clara("config", "check", "-c", str(tmp_path / "config_validation.json"))
    assert out.returncode == 0, out.stderr
    notices = [line for line in out.stdout.splitlines() if "notice:" in line]
    assert len(notices) == 1
    assert "accepted for SDK compatibility, has no effect: use_scanning_window" in notices[0]
    assert "batch_size" in notices[0] and "multi_gpu" in notices[0]


def test_train_metrics_are_training_metrics_and_validation_metrics_are_refused(mmar):
    config_path, env, root = locate(str(mmar), None, None)
    loaded = load_config(config_path, env, [], root)
    loaded.config["train"]["metrics"] = [{"name": "TrainDice",
                                          "args": {"data_format": "channels_last"}}]
    built = build_config(loaded)
    assert type(built.sections["train"]["metrics"][0]).__name__ == "TrainDice"
    loaded.config["train"]["metrics"] = [{"name": "ComputeAverageDice", "args": {"name": "d"}}]
    with pytest.raises(ConfigError, match=r"train\.metrics\[0\]\.name.*metric"):
        build_config(loaded)
