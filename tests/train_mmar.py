"""A small real MMAR for end-to-end training tests: generated NIfTI cubes in noise."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

CONFIG: dict[str, Any] = {
    "epochs": 3,
    "num_training_epoch_per_valid": 1,
    "learning_rate": 0.01,
    "determinism": {"random_seed": 7},
    "train": {
        "loss": {"name": "Dice", "args": {"data_format": "channels_last"}},
        "optimizer": {"name": "Adam"},
        "model": {"name": "Unet", "args": {"num_classes": 2, "filters": 4, "depth": 2,
                                           "data_format": "channels_last"}},
        "pre_transforms": [
            {"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
            {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}},
            {"name": "CropByPosNegRatio", "args": {"size": [16, 16, 16], "num_samples": 2}},
            {"name": "RandomSpatialFlip", "args": {"fields": ["image", "label"]}},
        ],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "output_batch_size": 2, "output_data_format": "channels_last"}},
        "aux_ops": [{"name": "TrainDice", "args": {"data_format": "channels_last"}},
                    {"name": "TrainAccuracy", "args": {"data_format": "channels_last"}}],
    },
    "validate": {
        "metrics": [{"name": "ComputeAverageDice",
                     "args": {"name": "mean_dice", "is_key_metric": True}}],
        "pre_transforms": [{"ref": "LoadNifti"}, {"ref": "ConvertToChannelsFirst"}],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "data_list_key": "validation", "output_data_format": "channels_last"}},
        "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}},
    },
}


def make_case(folder: Path, seed: int) -> dict[str, str]:
    """A 20^3 image: a bright cube (label 1) in Gaussian noise."""
    rng = np.random.default_rng(seed)
    label = np.zeros((20, 20, 20), np.uint8)
    c = rng.integers(6, 14, size=3)
    label[c[0] - 4:c[0] + 4, c[1] - 4:c[1] + 4, c[2] - 4:c[2] + 4] = 1
    image = label * 2.0 + rng.normal(scale=0.3, size=label.shape)
    for kind, data in (("image", image.astype(np.float32)), ("label", label)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), folder / f"{kind}{seed}.nii.gz")
    return {"image": f"image{seed}.nii.gz", "label": f"label{seed}.nii.gz"}


def make_train_mmar(root: Path, cases: int = 4, **overrides: Any) -> Path:
    """Write ``config/``, ``data/`` and a datalist under ``root``; the last case validates."""
    (root / "config").mkdir(parents=True)
    data = root / "data"
    data.mkdir()
    items = [make_case(data, s) for s in range(cases)]
    (data / "dataset.json").write_text(json.dumps({"training": items[:-1],
                                                   "validation": items[-1:]}))
    (root / "config" / "environment.json").write_text(json.dumps(
        {"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", "MMAR_CKPT_DIR": "models",
         "MMAR_EVAL_OUTPUT_PATH": "eval"}))
    config = copy.deepcopy(CONFIG)
    config.update(overrides)
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    return root


def poison_image(root: Path, case: int = 0) -> None:
    """Put finite values near float32's limit into one training image, as a corrupt scan
    would: they pass the pipeline's NaN check but overflow the network to NaN."""
    path = root / "data" / f"image{case}.nii.gz"
    img = nib.load(path)
    data = np.asarray(img.dataobj, dtype=np.float32)
    data[5:10, 5:10, 5:10] = 3e38
    nib.save(nib.Nifti1Image(data, img.affine), path)


def records(models: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (models / "metrics.jsonl").read_text().splitlines()]


def losses(models: Path) -> list[float]:
    return [r["loss"] for r in records(models)]
