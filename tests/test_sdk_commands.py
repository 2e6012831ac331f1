"""A user's own SDK MMAR run through its ``commands/*.sh`` as the SDK wrote them
(``python3 -u -m nvmidl.apps.train`` ...): a 2D JPEG/PNG segmentation MMAR trained,
exported, validated and inferred with no edit to its scripts or configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from clara_core.cli.sdk_apps import export_args

SET_ENV = """#!/usr/bin/env bash
export PYTHONPATH="$PYTHONPATH:/opt/nvidia:$MMAR_ROOT/custom"
export MMAR_ROOT=${PWD}/..
"""

SCRIPT = """#!/usr/bin/env bash
my_dir="$(dirname "$0")"
. $my_dir/set_env.sh
echo "MMAR_ROOT set to $MMAR_ROOT"
additional_options="$*"
CONFIG_FILE=config/%(config)s
ENVIRONMENT_FILE=config/environment.json
python3 -u  -m nvmidl.apps.%(app)s \\
    -m $MMAR_ROOT \\
    -c $CONFIG_FILE \\
    -e $ENVIRONMENT_FILE \\
    --set \\
    DATASET_JSON=$MMAR_ROOT/config/dataset_0.json \\
    %(settings)s \\
    ${additional_options}
"""

EXPORT = """#!/usr/bin/env bash
my_dir="$(dirname "$0")"
. $my_dir/set_env.sh
export CKPT_DIR=$MMAR_ROOT/models
python3 -u -m nvmidl.apps.export \\
    --model_file_format CKPT \\
    --model_file_path $CKPT_DIR \\
    --model_name model \\
    --input_node_names "NV_MODEL_INPUT" \\
    --output_node_names NV_MODEL_OUTPUT \\
    --trt_min_seg_size 50
"""

LOADS = [{"name": "LoadJpg", "args": {"fields": "image"}},
         {"name": "ConvertToChannelsFirst", "args": {"fields": ["image"]}},
         {"name": "ScaleIntensityRange", "args": {"fields": "image", "a_min": 0, "a_max": 255,
                                                  "b_min": 0.0, "b_max": 1.0, "clip": True}}]
LABEL = [{"name": "LoadPng", "args": {"fields": "label"}},
         {"name": "ConvertToChannelsFirst", "args": {"fields": ["label"]}},
         {"name": "ThresholdValues", "args": {"fields": "label", "threshold": 127,
                                              "dtype": "uint8"}}]


def _pictures(root: Path) -> None:
    import SimpleITK as sitk

    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    items = []
    for i in range(6):
        rng = np.random.default_rng(i)
        h, w = (int(v) for v in rng.integers(70, 100, 2))
        yy, xx = np.mgrid[:h, :w]
        disc = ((yy - h / 2) ** 2 + (xx - w / 2) ** 2) < (min(h, w) / 4) ** 2
        rgb = rng.integers(30, 110, (h, w, 3))
        rgb[disc] += [120, 60, 20]
        sitk.WriteImage(sitk.GetImageFromArray(rgb.astype(np.uint8), isVector=True),
                        str(root / "images" / f"p{i}.jpg"))
        sitk.WriteImage(sitk.GetImageFromArray((disc * 255).astype(np.uint8)),
                        str(root / "masks" / f"p{i}.png"))
        items.append({"image": f"images/p{i}.jpg", "label": f"masks/p{i}.png"})
    (root / "dataset_0.json").write_text(json.dumps({"training": items[:4],
                                                     "validation": items[4:]}))


def _mmar(root: Path) -> Path:
    """The MMAR as its author wrote it for the SDK (2D SegResnet, SDK argument forms)."""
    mmar = root / "mmar"
    (mmar / "commands").mkdir(parents=True)
    (mmar / "config").mkdir()
    _pictures(mmar / "data")
    (mmar / "config" / "dataset_0.json").write_text((mmar / "data" / "dataset_0.json").read_text())
    (mmar / "config" / "environment.json").write_text(json.dumps({
        "DATA_ROOT": "data", "DATASET_JSON": "config/dataset_0.json",
        "PROCESSING_TASK": "segmentation", "MMAR_EVAL_OUTPUT_PATH": "eval",
        "MMAR_CKPT_DIR": "models"}))
    train = {
        "epochs": 40, "num_training_epoch_per_valid": 1, "learning_rate": 1e-3,
        "multi_gpu": False, "use_amp": False, "dynamic_input_shape": False,
        "train": {
            "loss": {"name": "Dice", "args": {"skip_background": False,
                                              "data_format": "channels_first"}},
            "optimizer": {"name": "Adam"},
            "lr_policy": {"name": "ReduceOnPlateau", "args": {"factor": 0.5, "patience": 5}},
            "model": {"name": "SegResnet", "args": {
                "num_classes": 2, "blocks_down": "1,2,2,4", "blocks_up": "1,1,1",
                "init_filters": 8, "use_vae": False, "dropout_prob": 0.2,
                "final_activation": "softmax", "data_format": "channels_first"}},
            "pre_transforms": [
                LOADS[0], LABEL[0], {"name": "ConvertToChannelsFirst",
                                     "args": {"fields": ["image", "label"]}},
                LABEL[2], LOADS[2],
                {"name": "CropFixedSizeRandomCenter", "args": {"fields": ["image", "label"],
                                                               "size": [64, 64]}},
                {"name": "RandomSpatialFlip", "args": {"fields": ["image", "label"]}}],
            "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
                "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
                "data_list_key": "training", "output_crop_size": [64, 64],
                "output_batch_size": 4, "num_workers": 2,
                "output_data_format": "channels_first"}}},
        "validate": {
            "metrics": [{"name": "ComputeAverageDice", "args": {
                "name": "mean_dice", "field": "model", "label_field": "label",
                "is_key_metric": True, "report_path": "{MMAR_EVAL_OUTPUT_PATH}"}}],
            "pre_transforms": [LOADS[0], LABEL[0], {"ref": "ConvertToChannelsFirst"},
                               LABEL[2], LOADS[2]],
            "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
                "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
                "data_list_key": "validation", "output_batch_size": 1, "num_workers": 1,
                "output_data_format": "channels_first"}},
            "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [64, 64]}}}}
    (mmar / "config" / "config_train.json").write_text(json.dumps(train, indent=1))
    (mmar / "config" / "config_validation.json").write_text(json.dumps({
        "use_scanning_window": True, "multi_gpu": False, "batch_size": 1,
        "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [96, 96]}},
        "model_loader": {"name": "FrozenGraphModelLoader",
                         "args": {"model_file_path": "{MMAR_CKPT_DIR}/model.trt.pb"}},
        "pre_transforms": LOADS, "label_transforms": LABEL,
        "post_transforms": [{"name": "ArgmaxAcrossChannels", "args": {"fields": "model"}}],
        "val_metrics": [{"name": "ComputeAverageDice", "args": {
            "name": "mean_dice", "field": "model", "label_field": "label",
            "report_path": "{MMAR_EVAL_OUTPUT_PATH}"}}],
        "writers": [{"name": "WriteNifti", "args": {"field": "model", "dtype": "uint8",
                                                    "write_path": "{MMAR_EVAL_OUTPUT_PATH}"}}]},
        indent=1))
    commands = mmar / "commands"
    (commands / "set_env.sh").write_text(SET_ENV)
    scripts = {
        "train.sh": ("train", "config_train.json", "epochs=1 learning_rate=0.0002 "
                     "num_training_epoch_per_valid=1 multi_gpu=false"),
        "validate.sh": ("evaluate", "config_validation.json",
                        "do_validation=true output_infer_result=false"),
        "infer.sh": ("evaluate", "config_validation.json",
                     "output_infer_result=true do_validation=false")}
    for name, (app, config, settings) in scripts.items():
        (commands / name).write_text(SCRIPT % {"app": app, "config": config,
                                               "settings": settings})
    (commands / "export.sh").write_text(EXPORT)
    return mmar


def _run(commands: Path, script: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                 os.environ.get("PATH", "")]))
    return subprocess.run(["bash", script, *extra], cwd=commands, capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.slow
def test_an_sdk_mmars_own_scripts_train_export_validate_and_infer(tmp_path):
    mmar = _mmar(tmp_path)
    commands = mmar / "commands"
    trained = _run(commands, "train.sh")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert "trained epochs 1-1" in trained.stdout and (mmar / "models" /
                                                       "model_final.keras").is_file()
    exported = _run(commands, "export.sh")
    assert exported.returncode == 0, exported.stdout[-2000:] + exported.stderr[-2000:]
    assert "TensorFlow 1 frozen graph" in exported.stderr  # one notice for the TF1 options
    assert (mmar / "models" / "saved_model").is_dir()
    validated = _run(commands, "validate.sh")
    assert validated.returncode == 0, validated.stdout[-2000:] + validated.stderr[-2000:]
    assert "mean_dice:" in validated.stdout
    inferred = _run(commands, "infer.sh")
    assert inferred.returncode == 0, inferred.stdout[-2000:] + inferred.stderr[-2000:]
    written = sorted(p.name for p in (mmar / "eval").glob("*_model.nii.gz"))
    assert written == ["p4_model.nii.gz", "p5_model.nii.gz"], written
    more = _run(commands, "train.sh", "epochs=2")  # train_finetune.sh-style extra settings
    assert more.returncode == 0 and "epochs 1-2" in more.stdout, more.stderr[-2000:]


def test_export_sh_arguments_name_the_mmar_and_the_tf1_options_are_dropped(monkeypatch):
    monkeypatch.delenv("MMAR_ROOT", raising=False)
    assert export_args(["--model_file_path", "/work/m/models", "--model_name", "model"]) == [
        "-m", "/work/m"]
    monkeypatch.setenv("MMAR_ROOT", "/work/x/commands/..")
    assert export_args(["--model_file_format", "CKPT", "--format", "onnx"]) == [
        "-m", "/work/x", "--format", "onnx"]


def test_export_sh_without_an_mmar_is_one_line(monkeypatch, capsys):
    from clara_core.cli.sdk_apps import run_sdk_app

    monkeypatch.delenv("MMAR_ROOT", raising=False)
    assert run_sdk_app("export", ["--model_name", "model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("clara: error: python -m nvmidl.apps.export: no MMAR given")
    assert "Traceback" not in err

