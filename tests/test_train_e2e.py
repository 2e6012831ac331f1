"""End to end: the real ``clara train`` on small generated NIfTI files."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
from conftest import run_clara

CONFIG = {
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
        ],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "output_batch_size": 2, "output_data_format": "channels_last"}},
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


def make_case(path: Path, seed: int) -> tuple[str, str]:
    rng = np.random.default_rng(seed)
    label = np.zeros((20, 20, 20), np.uint8)
    c = rng.integers(6, 14, size=3)
    label[c[0] - 4:c[0] + 4, c[1] - 4:c[1] + 4, c[2] - 4:c[2] + 4] = 1
    image = label * 2.0 + rng.normal(scale=0.3, size=label.shape)
    for kind, data in (("image", image.astype(np.float32)), ("label", label)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), path / f"{kind}{seed}.nii.gz")
    return f"image{seed}.nii.gz", f"label{seed}.nii.gz"


def test_clara_train_writes_checkpoints_metrics_and_logs(tmp_path):
    (tmp_path / "config").mkdir()
    data = tmp_path / "data"
    data.mkdir()
    items = [dict(zip(("image", "label"), make_case(data, s), strict=True)) for s in range(4)]
    (data / "dataset.json").write_text(json.dumps({"training": items[:3],
                                                   "validation": items[3:]}))
    (tmp_path / "config" / "environment.json").write_text(json.dumps(
        {"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", "MMAR_CKPT_DIR": "models"}))
    (tmp_path / "config" / "config_train.json").write_text(json.dumps(CONFIG))
    out = run_clara("train", "-m", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "mean_dice:" in out.stdout
    models = tmp_path / "models"
    for name in ("model_latest.weights.h5", "model_best.weights.h5", "model_final.weights.h5",
                 "train_state.json", "metrics.jsonl"):
        assert (models / name).exists(), name
    records = [json.loads(line) for line in (models / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert all(np.isfinite(r["loss"]) and 0 <= r["mean_dice"] <= 1 for r in records)
    assert list((models / "logs").iterdir()), "TensorBoard event files"
    assert not list(models.glob(".tmp-*")), "no temporary checkpoint files left behind"
