"""The reliability and security corpus: bad configs, hostile MMARs, damaged run files
and wrong data, each with the exit code and the message it must produce, none with a
traceback, none running attacker code (see ``harness.py``)."""

from __future__ import annotations

import fcntl
import gzip
import json
import math
import shutil
import socket
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from harness import (
    Case,
    attacker_code,
    chain,
    config_path,
    edit_config,
    edit_env,
    run_case,
    set_values,
)
from train_mmar import make_train_mmar

CHECK = ["config", "check", "-m", "{mmar}"]
CHECK_NAMES_ONLY = [*CHECK, "--names-only"]
TRAIN = ["train", "-m", "{mmar}", "--no-progress", "--set", "epochs=1"]
RESUME = ["train", "-m", "{mmar}", "--no-progress", "--resume", "--set", "epochs=3"]
INFER = ["infer", "-m", "{mmar}", "-i", "{mmar}/data/image0.nii.gz", "-o", "{mmar}/segs",
         "--no-progress"]


# -- A. settings that training cannot use --------------------------------------------

BAD_SETTINGS: list[tuple[str, Any]] = [
    ("epochs", 0), ("epochs", -3), ("epochs", 2.5), ("epochs", "ten"), ("epochs", True),
    ("epochs", 10**9), ("epochs", None), ("num_training_epoch_per_valid", 0),
    ("num_training_epoch_per_valid", "1"), ("learning_rate", 0), ("learning_rate", -1e-3),
    ("learning_rate", math.inf), ("learning_rate", math.nan), ("learning_rate", "0.01"),
    ("multi_gpu", "false"), ("multi_gpu", 0), ("use_amp", "yes"), ("amp_dtype", "float64"),
    ("amp_dtype", "half"), ("dynamic_input_shape", 1), ("cpu_channels_last", "true"),
    ("names_only", 1), ("determinism", {"random_seed": "abc"}),
    ("determinism", {"random_seed": -1}), ("determinism", {"random_seed": 2**40}),
    ("determinism", {"random_seed": 1.5}), ("determinism", 42), ("determinism", {"seed": 1}),
    ("epcohs", 3), ("learningrate", 0.1),
]

SETTING_CASES = [
    Case(f"setting {key}={value!r}", set_values(**{key: value}), CHECK, 2, [key])
    for key, value in BAD_SETTINGS
]


def pipeline_args(**args: Any) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["train"]["image_pipeline"]["args"].update(args)
    return lambda mmar, marker: edit_config(mmar, change)


BOUND_CASES = [
    Case("num_workers 100000000", pipeline_args(num_workers=100_000_000), CHECK, 2,
         ["num_workers", "an integer in [1, 256]"]),
    Case("num_workers 0", pipeline_args(num_workers=0), CHECK, 2, ["num_workers"]),
    Case("output_batch_size 10**9", pipeline_args(output_batch_size=10**9), CHECK, 2,
         ["output_batch_size"]),
    Case("prefetch_size 10**6", pipeline_args(prefetch_size=10**6), CHECK, 2,
         ["prefetch_size"]),
    Case("replace_percent 2", pipeline_args(replace_percent=2.0), CHECK, 2,
         ["replace_percent"]),
    Case("output_data_format NCDHW", pipeline_args(output_data_format="NCDHW"), CHECK, 2,
         ["output_data_format"]),
    Case("crop size with a zero", lambda m, _: edit_config(m, lambda c: c["train"][
        "pre_transforms"][2]["args"].update(size=[16, 0, 16])), CHECK, 2,
        ["a non-empty list of positive integers"]),
]


def nested(mmar: Path, marker: Path) -> None:
    config_path(mmar).write_text('{"train": ' + "[" * 100_000 + "]" * 100_000 + "}")


def deep_but_parsable(mmar: Path, marker: Path) -> None:
    config_path(mmar).write_text('{"train": ' + "[" * 500 + "]" * 500 + "}")


STRUCTURE_CASES = [
    Case("config nested 100,000 deep", nested, CHECK, 2, ["nests deeper than 64 levels"]),
    Case("config nested 500 deep", deep_but_parsable, CHECK, 2, ["nests deeper"]),
    Case("environment cycle", edit_env(A="{B}/x", B="{A}"), CHECK, 2,
         ["cycle: A -> B -> A"]),
    Case("self-referring variable", edit_env(LOOP="{LOOP}"), CHECK, 2,
         ["cycle: LOOP -> LOOP"]),
    Case("config is a list", lambda m, _: config_path(m).write_text("[1, 2]"), CHECK, 2,
         ["must be a JSON object"]),
    Case("config is binary", lambda m, _: config_path(m).write_bytes(b"\x89PNG\x00\xff"),
         CHECK, 2, ["cannot read config"]),
    Case("config is empty", lambda m, _: config_path(m).write_text(""), CHECK, 2,
         ["not valid JSON"]),
    Case("config truncated", lambda m, _: config_path(m).write_text(
        config_path(m).read_text()[:200]), CHECK, 2, ["not valid JSON"]),
]


# -- B. hostile MMARs ----------------------------------------------------------------

def custom_module(name: str, package: bool = False) -> Any:
    """A custom/ module (or package) that writes the marker when imported."""
    def mutate(mmar: Path, marker: Path) -> None:
        custom = mmar / "custom"
        custom.mkdir(exist_ok=True)
        if package:
            (custom / name).mkdir()
            (custom / name / "__init__.py").write_text(attacker_code(marker))
        else:
            (custom / f"{name}.py").write_text(attacker_code(marker))
    return mutate


def loss_path(path: str, **args: Any) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["train"]["loss"] = {"path": path, "args": args}
    return lambda mmar, marker: edit_config(mmar, change)


def loss_path_marker(path: str, arg: str, template: str) -> Any:
    """A ``path`` to a standard function with an argument that would create the marker."""
    def mutate(mmar: Path, marker: Path) -> None:
        loss_path(path, **{arg: template.format(marker=marker)})(mmar, marker)
    return mutate


def names_only_custom_loss(mmar: Path, marker: Path) -> None:
    custom_module("evil_loss")(mmar, marker)
    loss_path("evil_loss.Anything")(mmar, marker)


def metric_report_path(path: str) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["validate"]["metrics"][0]["args"]["report_path"] = path
    return lambda mmar, marker: edit_config(mmar, change)


def validation_config(**writer_args: Any) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        config_path(mmar, "config_validation.json").write_text(json.dumps({
            "inferer": {"name": "TFSimpleInferer"},
            "model_loader": {"name": "CheckpointLoader"},
            "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image"]}}],
            "writers": [{"name": "WriteNifti", "args": writer_args}],
        }))
    return mutate


VALIDATE_CHECK_NAMES_ONLY = ["config", "check", "-c", "{mmar}/config/config_validation.json",
                             "--names-only"]


def save_as_nifti(out_dir: str) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["train"]["pre_transforms"].insert(2, {"name": "SaveAsNifti", "args": {
            "fields": ["image"], "out_dir": out_dir}})
    return lambda mmar, marker: edit_config(mmar, change)


def non_empty(folder: str) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        target = mmar / folder
        target.mkdir(parents=True, exist_ok=True)
        (target / "keep.txt").write_text("the user's file")
    return mutate


def kept(folder: str) -> Any:
    def check(mmar: Path) -> None:
        assert (mmar / folder / "keep.txt").read_text() == "the user's file"
    return check


SECURITY_CASES = [
    Case("names-only: custom/clara_losses is never imported",
         custom_module("clara_losses", package=True), CHECK_NAMES_ONLY, 0, ["OK"]),
    Case("names-only: custom/numpy.py is never imported", custom_module("numpy"),
         CHECK_NAMES_ONLY, 0, ["OK"]),
    Case("names-only: custom/keras.py is never imported", custom_module("keras"),
         CHECK_NAMES_ONLY, 0, ["OK"]),
    Case("names-only: path into custom/ is refused", names_only_custom_loss,
         CHECK_NAMES_ONLY, 2, ["names-only policy is on"]),
    Case("names-only in the config itself", chain(names_only_custom_loss,
                                                  set_values(names_only=True)),
         CHECK, 2, ["names-only policy is on"]),
    Case("custom/numpy.py cannot shadow numpy", custom_module("numpy"), CHECK, 2,
         ["named like installed ones: numpy"]),
    Case("custom/keras.py cannot shadow keras", custom_module("keras"), CHECK, 2,
         ["named like installed ones: keras"]),
    Case("custom/os.py cannot shadow the standard library", custom_module("os"), CHECK, 2,
         ["named like installed ones: os"]),
    Case("custom/json package cannot shadow json", custom_module("json", package=True),
         CHECK, 2, ["named like installed ones: json"]),
    Case("custom/clara_losses cannot shadow a plugin", custom_module("clara_losses", True),
         CHECK, 2, ["named like installed ones: clara_losses"]),
    Case("path os.system is never called",
         loss_path_marker("os.system", "command", "touch {marker}"), CHECK, 2,
         ["os.system is not a loss component", "only constructs component classes"]),
    Case("path subprocess.run is never called",
         loss_path_marker("subprocess.run", "args", "touch {marker}"), CHECK, 2,
         ["is not a loss component"]),
    Case("path os:popen is never called", loss_path_marker("os:popen", "cmd", "touch {marker}"),
         CHECK, 2, ["is not a loss component"]),
    Case("path builtins.exec is never called",
         loss_path_marker("builtins.exec", "source", "open({marker!r}, 'w')"), CHECK, 2,
         ["is not a loss component"]),
    Case("path pathlib.Path is a class of the wrong kind",
         loss_path_marker("pathlib.Path", "args", "{marker}"), CHECK, 2,
         ["pathlib.Path is not a loss component"]),
    Case("names-only: installed but untrusted module by path",
         loss_path("clara_losses.dice.Dice"), CHECK_NAMES_ONLY, 2, ["names-only policy"]),
    Case("names-only: report_path outside the MMAR", metric_report_path("../../outside"),
         CHECK_NAMES_ONLY, 2, ["report_path: writes to", "outside the MMAR"]),
    Case("names-only: absolute report_path", metric_report_path("/tmp/clara-outside"),
         CHECK_NAMES_ONLY, 2, ["outside the MMAR"]),
    Case("names-only: report_path inside is fine", metric_report_path("eval/reports"),
         CHECK_NAMES_ONLY, 0, ["OK"]),
    Case("names-only: MMAR_CKPT_DIR=../other", edit_env(MMAR_CKPT_DIR="../other"),
         CHECK_NAMES_ONLY, 2, ["environment MMAR_CKPT_DIR", "outside the MMAR"]),
    Case("names-only: MMAR_EVAL_OUTPUT_PATH=/tmp", edit_env(MMAR_EVAL_OUTPUT_PATH="/tmp/x"),
         CHECK_NAMES_ONLY, 2, ["environment MMAR_EVAL_OUTPUT_PATH"]),
    Case("names-only: a folder given on the command line may be outside",
         edit_env(MMAR_CKPT_DIR="../other"),
         [*CHECK_NAMES_ONLY, "--set", "MMAR_CKPT_DIR=/tmp/clara-given"], 0, ["OK"]),
    Case("names-only: SaveAsNifti out_dir ../x", save_as_nifti("../x"), CHECK_NAMES_ONLY, 2,
         ["out_dir: writes to"]),
    Case("names-only: cache_dir outside", pipeline_args(cache_dir="/tmp/clara-cache"),
         CHECK_NAMES_ONLY, 2, ["cache_dir: writes to"]),
    Case("names-only: symlink out of the MMAR", lambda m, k: (
        (m / "link").symlink_to("/tmp"), metric_report_path("link/reports")(m, k)),
        CHECK_NAMES_ONLY, 2, ["outside the MMAR"]),
    Case("names-only: WriteNifti write_path ../../x", validation_config(write_path="../../x"),
         VALIDATE_CHECK_NAMES_ONLY, 2, ["writers[0].args.write_path: writes to"]),
    Case("export never empties a non-empty folder", non_empty("target"),
         ["export", "-m", "{mmar}", "-o", "{mmar}/target"], 2,
         ["exists and is not empty", "--force"], after=kept("target")),
    Case("export never replaces the default saved_model", non_empty("models/saved_model"),
         ["export", "-m", "{mmar}"], 2, ["exists and is not empty"],
         after=kept("models/saved_model")),
]


# -- D. wrong data -------------------------------------------------------------------

def nifti(name: str, data: np.ndarray) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        nib.save(nib.Nifti1Image(data, np.eye(4)), mmar / "data" / name)
    return mutate


def truncate(name: str, keep: float = 0.5) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        path = mmar / "data" / name
        blob = path.read_bytes()
        path.write_bytes(blob[:int(len(blob) * keep)])
    return mutate


def write_bytes(name: str, blob: bytes) -> Any:
    return lambda mmar, marker: (mmar / "data" / name).write_bytes(blob)


def label_with(value: float) -> np.ndarray:
    label = np.zeros((20, 20, 20), np.float32)
    label[6:12, 6:12, 6:12] = value
    return label


def no_metrics_log(mmar: Path) -> None:
    assert not (mmar / "models" / "metrics.jsonl").exists(), "an epoch trained first"


DATA_CASES = [
    Case("truncated training image", truncate("image0.nii.gz"), TRAIN, 2,
         ["image0.nii.gz"]),
    Case("empty training image", write_bytes("image0.nii.gz", b""), TRAIN, 2,
         ["image0.nii.gz"]),
    Case("garbage label", write_bytes("label1.nii.gz", gzip.compress(b"not nifti" * 50)),
         TRAIN, 2, ["label1.nii.gz"]),
    Case("NaN in an image", nifti("image0.nii.gz", np.full((20, 20, 20), np.nan, np.float32)),
         TRAIN, 2, ["NaN/infinite"]),
    Case("label value 5 with num_classes 2", nifti("label0.nii.gz", label_with(5)), TRAIN, 2,
         ["label values 5 lie outside 0..1", "label0.nii.gz"]),
    Case("label value -1", nifti("label1.nii.gz", label_with(-1)), TRAIN, 2,
         ["label values -1 lie outside 0..1"]),
    Case("fractional labels", nifti("label0.nii.gz", label_with(0.5)), TRAIN, 2,
         ["non-integer values", "label0.nii.gz"]),
    Case("a 3-channel image among 1-channel ones",
         nifti("image1.nii.gz", np.zeros((20, 20, 20, 3), np.float32)), TRAIN, 2,
         ["channel(s) but", "image1.nii.gz", "the same channels"]),
    Case("label on another grid", nifti("label0.nii.gz", np.zeros((18, 20, 20), np.float32)),
         TRAIN, 2, ["spatial shape"]),
    Case("truncated validation case stops the run before training",
         truncate("image2.nii.gz"), TRAIN, 2, ["image2.nii.gz"], after=no_metrics_log),
    Case("skipped validation case is listed, key metric stays finite",
         chain(truncate("image2.nii.gz"), lambda m, k: edit_config(m, lambda c: c[
             "validate"]["image_pipeline"]["args"].update(skip_bad_cases=True)),
             lambda m, k: edit_config(m, lambda c: c["validate"]["image_pipeline"][
                 "args"].update(data_list_key="validation_and_more"))),
         TRAIN, 0, ["skipped 1 bad validation case", "mean_dice: 0."]),
    Case("missing data file", lambda m, k: (m / "data" / "label1.nii.gz").unlink(), CHECK, 2,
         ["label1.nii.gz"]),
    Case("a case without foreground trains with a warning",
         nifti("label0.nii.gz", np.zeros((20, 20, 20), np.float32)), TRAIN, 0,
         ["has no foreground"]),
    Case("an image smaller than the crop is padded",
         chain(nifti("image0.nii.gz", np.ones((10, 10, 10), np.float32)),
               nifti("label0.nii.gz", np.ones((10, 10, 10), np.float32))), TRAIN, 0,
         ["trained epochs 1-1"]),
]


@pytest.fixture
def mmar(tmp_path: Path) -> Path:
    root = make_train_mmar(tmp_path / "mmar", cases=3)
    datalist = root / "data" / "dataset.json"
    items = json.loads(datalist.read_text())
    # a second validation list: the bad validation case plus a good one
    items["validation_and_more"] = items["validation"] + items["training"][:1]
    datalist.write_text(json.dumps(items))
    return root


CORPUS = SETTING_CASES + BOUND_CASES + STRUCTURE_CASES + SECURITY_CASES + DATA_CASES


@pytest.mark.parametrize("case", CORPUS, ids=[c.name for c in CORPUS])
def test_case(case: Case, mmar: Path, tmp_path: Path):
    run_case(case, mmar, tmp_path / "ATTACKER_CODE_RAN")


# -- C. damaged run files: one trained run, copied per case ---------------------------

@pytest.fixture(scope="module")
def trained(trained_mmar: Path) -> Path:
    """The session's trained MMAR; each case copies it before damaging it."""
    return trained_mmar


def models(mmar: Path) -> Path:
    return mmar / "models"


def state_file(text: str | bytes) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        path = models(mmar) / "train_state.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return mutate


def edit_state(**values: Any) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        path = models(mmar) / "train_state.json"
        state = json.loads(path.read_text())
        state.update(values)
        path.write_text(json.dumps(state))
    return mutate


def bundle(damage: Any) -> Any:
    def mutate(mmar: Path, marker: Path) -> None:
        path = next(models(mmar).glob("resume-*.npz"))
        damage(path)
    return mutate


def metrics_lines(mmar: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (models(mmar) / "metrics.jsonl").read_text().splitlines()]


def all_epochs_logged(mmar: Path) -> None:
    assert [r["epoch"] for r in metrics_lines(mmar)] == [1, 2, 3]


def hold_lock(mmar: Path, marker: Path) -> None:
    fd = open(models(mmar) / ".clara-run.lock", "w")  # noqa: SIM115 - held by the test
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fd.write(json.dumps({"pid": 4242, "host": socket.gethostname()}))
    fd.flush()
    HELD.append(fd)


HELD: list[Any] = []


def stale_temporaries(mmar: Path, marker: Path) -> None:
    (models(mmar) / ".tmp-123-model_latest.weights.h5").write_bytes(b"half")
    (models(mmar) / ".tmp-abc.json").write_text("{")


def no_temporaries(mmar: Path) -> None:
    assert not list(models(mmar).glob(".tmp-*"))


def truncated(name: str) -> Any:
    """Cut a run file to a third, as a full disk or an interrupted copy leaves it."""
    def mutate(mmar: Path, marker: Path) -> None:
        path = models(mmar) / name
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    return mutate


RUN_FILE_CASES = [
    Case("model_final.keras truncated", truncated("model_final.keras"), INFER, 2,
         ["model_final.keras: it is damaged or truncated", "clara train writes it again"]),
    Case("best weights truncated", truncated("model_best.weights.h5"), INFER, 2,
         ["model_best.weights.h5: it is not a readable weights file"]),
    Case("train_state.json truncated", lambda m, k: state_file(
        (models(m) / "train_state.json").read_text()[:40])(m, k), RESUME, 2,
        ["train_state.json is damaged", "without --resume"]),
    Case("train_state.json empty", state_file(""), RESUME, 2, ["is damaged"]),
    Case("train_state.json garbage bytes", state_file(b"\xff\xfe\x00garbage"), RESUME, 2,
         ["is damaged"]),
    Case("train_state.json a list", state_file("[1, 2]"), RESUME, 2,
         ["is not a resume point"]),
    Case("train_state.json names no bundle", edit_state(bundle=None), RESUME, 2,
         ["is not a resume point"]),
    Case("train_state.json names a path outside", edit_state(bundle="../../etc/passwd"),
         RESUME, 2, ["is not a resume point"]),
    Case("train_state.json epoch of the wrong type", edit_state(epoch="two"), RESUME, 2,
         ["holds 'two' as 'epochs_done'"]),
    Case("train_state.json losses of the wrong type", edit_state(losses="bad"), RESUME, 2,
         ["as 'losses'"]),
    Case("resume bundle truncated", bundle(lambda p: p.write_bytes(p.read_bytes()[:100])),
         RESUME, 2, ["is damaged"]),
    Case("resume bundle empty", bundle(lambda p: p.write_bytes(b"")), RESUME, 2,
         ["is damaged"]),
    Case("resume bundle garbage", bundle(lambda p: p.write_bytes(b"PK\x03\x04" + b"x" * 500)),
         RESUME, 2, ["is damaged"]),
    Case("resume bundle missing", bundle(lambda p: p.unlink()), RESUME, 2,
         ["which is missing", "MMAR_CKPT"]),
    Case("metrics.jsonl damaged tail is rebuilt", lambda m, k: (models(m) / "metrics.jsonl")
         .write_text((models(m) / "metrics.jsonl").read_text()[:-25]), RESUME, 0,
         ["damaged line(s) dropped"], after=all_epochs_logged),
    Case("metrics.jsonl garbage is rebuilt", lambda m, k: (models(m) / "metrics.jsonl")
         .write_bytes(b"\x00\xffnot json\n{\n"), RESUME, 0, ["rebuilt from the resume point"],
         after=all_epochs_logged),
    Case("metrics.jsonl missing is rebuilt", lambda m, k: (models(m) / "metrics.jsonl")
         .unlink(), RESUME, 0, ["rebuilt"], after=all_epochs_logged),
    Case("fine-tune from a corrupt weights file", lambda m, k: (
        models(m) / "model_best.weights.h5").write_bytes(b"\x00" * 64),
        [*TRAIN, "--set", "MMAR_CKPT=models/model_best.weights.h5"], 2,
        ["not a readable weights file"]),
    Case("fine-tune from a missing file", lambda m, k: None,
         [*TRAIN, "--set", "MMAR_CKPT=models/nothing.weights.h5"], 2, ["does not exist"]),
    Case("a second run on the same folder is refused", hold_lock, TRAIN, 2,
         ["Another clara train (process 4242 on", "MMAR_CKPT_DIR"]),
    Case("a stale lock file of a killed run is taken over", lambda m, k: (
        models(m) / ".clara-run.lock").write_text('{"pid": 999999, "host": "x"}'), TRAIN, 0,
        ["trained epochs 1-1"]),
    Case("stale temporary files are removed at start", stale_temporaries, RESUME, 0,
         ["removed 2 unfinished file(s)"], after=no_temporaries),
]


@pytest.mark.parametrize("case", RUN_FILE_CASES, ids=[c.name for c in RUN_FILE_CASES])
def test_run_file_case(case: Case, trained: Path, tmp_path: Path):
    copy = tmp_path / "mmar"
    shutil.copytree(trained, copy)
    try:
        run_case(case, copy, tmp_path / "ATTACKER_CODE_RAN")
    finally:
        while HELD:
            HELD.pop().close()


def test_corpus_is_large_enough():
    assert len(CORPUS) + len(RUN_FILE_CASES) >= 100


def test_disk_full_is_a_message_and_the_last_checkpoint_survives(trained, tmp_path,
                                                                  monkeypatch):
    from harness import run_clara_here

    copy = tmp_path / "mmar"
    shutil.copytree(trained, copy)
    keep = ["train_state.json", "model_best.weights.h5", "model_latest.weights.h5",
            *(p.name for p in models(copy).glob("resume-*.npz"))]
    before = {name: (models(copy) / name).read_bytes() for name in keep}
    monkeypatch.setattr("clara_core.workflow.checkpointer.shutil.disk_usage",
                        lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 4096, 4096))
    code, text = run_clara_here([a.replace("{mmar}", str(copy)) for a in RESUME])
    assert code == 2 and "no space left to write" in text and "--resume" in text, text
    assert "Traceback" not in text
    assert {name: (models(copy) / name).read_bytes() for name in keep} == before
    monkeypatch.undo()
    code, text = run_clara_here([a.replace("{mmar}", str(copy)) for a in RESUME])
    assert code == 0, text
    all_epochs_logged(copy)
