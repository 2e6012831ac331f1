"""``config check`` == training, under a seeded fuzzer over the example configs.

Mutants of the example configs (``fuzz_configs``: deleted keys, wrong types, huge,
negative and non-finite numbers, odd strings, nulls) go through the real ``clara
config check`` (the validation configs too): never a traceback, a message or acceptance.
The accepted train configs train
one epoch on 20^3 cases: each trains, or stops with a message about a case of the
data (a NaN loss is an outcome); a message about the config is a mismatch, since
the check could have said it. The mistakes the fuzzer found first are kept as
named tests.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import subprocess
import sys
import traceback
from pathlib import Path

import fuzz_configs as fz
import pytest
from conftest import _forget_search_paths, run_clara

SEED = 20261205

# what a run may stop on after config check accepted its config: the data
DATA_MESSAGES = ("failed on case", "Case ", "nan", "NaN", "not finite", "datalist", "the data")


@pytest.fixture(scope="module")
def mmar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fz.make_mmar(tmp_path_factory.mktemp("fuzz") / "mmar")


def config_check(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``clara config check ARGS`` in this process, as ``run_clara`` runs it but
    without resetting Keras (a check builds no network; the reset costs 0.4 s)."""
    from clara_core.cli import main
    from clara_core.registry import paths as registry_paths

    out, err, saved = io.StringIO(), io.StringIO(), list(sys.path)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["config", "check", *args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 (a user would have seen it)
                traceback.print_exc()
                code = 1
    finally:
        _forget_search_paths(set(sys.path) - set(saved), registry_paths)
        sys.path[:] = saved
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def check(mmar: Path, tag: str, name: str, cfg: dict) -> tuple[list[str], str]:
    """``clara config check`` of ``cfg``: its arguments, and "" when accepted or the
    message (a traceback fails the test)."""
    args = fz.write_config(mmar, tag, name, cfg)
    out = config_check(args)
    assert "Traceback" not in out.stderr + out.stdout, f"{tag}: {out.stderr[-3000:]}"
    assert out.returncode in (0, 2), f"{tag}: {out.returncode} {out.stderr[-2000:]}"
    if out.returncode == 2:
        assert out.stderr.startswith("clara: error:"), out.stderr
    return args, out.stderr if out.returncode else ""


def train_outcome(mmar: Path, tag: str, args: list[str], what: str = "") -> str:
    """"" when one epoch trains or stops on the data; otherwise what went wrong. A
    window the network's down-sampling does not divide, and a custom network without
    annotations refusing its args, are said when the network is built (config check
    builds none), before the first step: accepted where the mutant changed the window
    or the model's args (``what``)."""
    out = run_clara("train", *args, "--no-progress", "--set", f"MMAR_CKPT_DIR=models_{tag}")
    if "Traceback" in out.stderr or out.returncode not in (0, 2):
        return f"{tag}: traceback or crash (exit {out.returncode}): {out.stderr[-2500:]}"
    if "roi_size" in what and "does not fit the network" in out.stderr:
        return ""
    if what.startswith("train.model.args") and "failed to build its network" in out.stderr:
        return ""  # an unannotated custom network: its own code judges its args
    if out.returncode == 2 and not any(m in out.stderr for m in DATA_MESSAGES):
        return f"{tag}: config check accepted what training refused: {out.stderr[-800:]}"
    return ""


def fuzz(mmar: Path, seed: int, count: int, trained: int,
         train_bases: tuple[str, ...] = ()) -> tuple[int, list[str]]:
    """``count`` mutants through ``config check``, the first ``trained`` accepted ones
    (of ``train_bases``, default all train configs) through one epoch: (accepted,
    mismatches)."""
    accepted, mismatches, runs = 0, [], 0
    for i, (name, what, cfg) in enumerate(fz.mutants(seed, count)):
        tag = f"s{seed}_{i}"
        args, message = check(mmar, tag, name, cfg)
        if message:
            continue
        accepted += 1
        if runs < trained and name in (train_bases or fz.TRAINABLE):
            runs += 1
            problem = train_outcome(mmar, tag, args, what)
            if problem:
                mismatches.append(f"{name} {what} -> {problem}")
    return accepted, mismatches


def test_the_mutator_is_seeded_and_changes_one_thing():
    a, b = fz.mutants(7, 20), fz.mutants(7, 20)
    assert [(n, w) for n, w, _ in a] == [(n, w) for n, w, _ in b]
    base = fz.bases()
    assert all(cfg != base[name] for name, _, cfg in a)


def test_the_shrunk_examples_check(mmar):
    for name, cfg in fz.bases().items():
        assert check(mmar, f"base_{name}", name, cfg)[1] == "", name


@pytest.mark.slow
@pytest.mark.parametrize("name", fz.TRAINABLE)
def test_the_shrunk_examples_train(mmar, name):
    base = fz.bases()
    if name not in base:
        pytest.skip(f"{fz.SOURCES[name]} absent")
    args, _ = check(mmar, f"base_{name}", name, base[name])
    assert train_outcome(mmar, f"base_{name}", args) == ""


def test_mutants_check_without_traceback_and_accepted_ones_train(mmar):
    # the channels-last examples train fastest on a CPU: the fast tier trains theirs
    accepted, mismatches = fuzz(mmar, SEED, 200, trained=4, train_bases=("brain", "byoc"))
    assert accepted >= 4  # the fuzzer reaches training
    assert mismatches == []


@pytest.mark.slow
def test_a_thousand_mutants(mmar):
    accepted, mismatches = fuzz(mmar, SEED + 1, 1000, trained=12)
    assert accepted >= 12
    assert mismatches == []


# -- what the fuzzer found, each at its config location --------------------------------

def brain() -> dict:
    return fz.bases()["brain"]


def refused(mmar: Path, cfg: dict, name: str = "brain") -> str:
    tag = f"t{random.Random(json.dumps(cfg, sort_keys=True)).randrange(10 ** 9)}"
    message = check(mmar, tag, name, cfg)[1]
    assert message, "config check accepted it"
    return message


def test_a_crop_or_window_bigger_than_memory_is_a_config_error(mmar):
    cfg = brain()
    cfg["train"]["pre_transforms"][3]["args"]["size"] = [10 ** 12, 16, 16]
    err = refused(mmar, cfg)
    assert "train.pre_transforms[3].args.size: size [1000000000000, 16, 16]" in err
    assert "of memory" in err and "PiB" in err
    cfg = brain()  # small crops, but 10^12 of them from each case
    cfg["train"]["pre_transforms"][3]["args"]["num_samples"] = 10 ** 12
    assert "times 1000000000000 samples" in refused(mmar, cfg)
    cfg = fz.bases()["trn_base"]
    cfg["validate"]["inferer"]["args"]["roi_size"] = [16, 10 ** 12, 16]
    assert "validate.inferer.args.roi_size: roi_size" in refused(mmar, cfg, "trn_base")


def test_a_window_of_another_rank_than_the_crops_is_a_config_error(mmar):
    cfg = fz.bases()["trn_base"]
    cfg["validate"]["inferer"]["args"]["roi_size"] = [16, 16]
    err = refused(mmar, cfg, "trn_base")
    assert "roi_size [16, 16] has 2 axes, but the training crops have 3" in err


def test_a_field_nothing_provides_is_named_where_it_is_read(mmar):
    cfg = brain()
    cfg["train"]["pre_transforms"][1]["args"]["fields"] = ["image", "lable"]
    err = refused(mmar, cfg)
    assert "train.pre_transforms[1].args.fields: ConvertToChannelsFirst reads field 'lable'" in err
    assert "did you mean 'label'" in err
    cfg = brain()
    cfg["validate"]["metrics"][0]["args"]["field"] = "1"
    err = refused(mmar, cfg)
    assert "validate.metrics[0].args.field: ComputeAverageDice reads field '1'" in err
    cfg = brain()  # a field the datalist lacks, read by the loader
    cfg["train"]["pre_transforms"][0]["args"]["fields"] = ["image", "mask"]
    assert "LoadNifti reads field 'mask'" in refused(mmar, cfg)


def test_an_image_no_transform_loads_is_a_config_error(mmar):
    cfg = brain()
    del cfg["validate"]["pre_transforms"]
    err = refused(mmar, cfg)
    assert "validate.image_pipeline.args: SegmentationImagePipeline takes field 'image' as " \
           "the image, but no transform of validate.pre_transforms loads it" in err


def test_fields_added_by_a_transform_may_be_read_after_it(mmar):
    cfg = brain()
    cfg["train"]["pre_transforms"][2:2] = [
        {"name": "SplitBasedOnLabel", "args": {"field": "label",
                                               "label_names": ["bg", "fg"]}},
        {"name": "ScaleIntensityRange#fg", "args": {"fields": "fg", "a_min": 0.0,
                                                 "a_max": 1.0}}]
    assert check(mmar, "split", "brain", cfg)[1] == ""


def test_a_loss_on_another_data_format_than_the_pipeline_is_a_config_error(mmar):
    cfg = brain()
    del cfg["train"]["loss"]["args"]
    err = refused(mmar, cfg)
    assert "train.loss.args.data_format: Dice takes channels_first tensors, but the " \
           "train pipeline gives channels_last" in err


def test_nulls_where_a_value_is_required(mmar):
    cfg = brain()
    cfg["train"]["image_pipeline"]["args"]["output_data_format"] = None
    assert "output_data_format" in refused(mmar, cfg)
    cfg = fz.bases()["byoc"]  # the SDK's BYOC network: no annotations, a default
    cfg["train"]["model"]["args"]["num_classes"] = None
    err = refused(mmar, cfg, "byoc")
    assert "train.model.args.num_classes: argument 'num_classes' of model " in err
    assert "expects a value (it is required), received None" in err
    cfg["train"]["model"]["args"]["num_classes"] = 3
    cfg["train"]["model"]["args"]["factor"] = "1"
    assert "expects a value like its default 32, received '1'" in refused(mmar, cfg, "byoc")


def test_a_metric_name_is_a_file_name(mmar):
    cfg = brain()
    cfg["validate"]["metrics"][0]["args"]["name"] = "mean\u0000dice"
    assert "a metric name usable as a file name" in refused(mmar, cfg)


def test_flip_axes_are_spatial_axes(mmar):
    cfg = brain()
    cfg["train"]["pre_transforms"][4]["args"]["axes"] = [2 ** 31, 2]
    assert "spatial axes in [0, 2]" in refused(mmar, cfg)


def test_a_label_without_the_image_channel_axis_stops_on_the_case(mmar):
    cfg = brain()
    cfg["train"]["pre_transforms"][1]["args"]["fields"] = ["image"]
    args, message = check(mmar, "label_axes", "brain", cfg)
    assert message == ""
    out = run_clara("train", *args, "--no-progress")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "field 'label' is NDHW but 'image' is NCDHW" in out.stderr


def test_a_network_that_cannot_build_from_its_args_is_a_message(mmar):
    cfg = fz.bases()["byoc"]  # the SDK's BYOC network takes any string as data_format
    cfg["train"]["model"]["args"]["data_format"] = "#"
    args, _ = check(mmar, "net_format", "byoc", cfg)
    out = run_clara("train", *args, "--no-progress")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert "model CustomNetwork failed to build its network: AttributeError" in out.stderr
    assert "myNetworkArch.py, line" in out.stderr
