"""ClassificationImagePipeline end to end: `clara train` learns which volumes hold a
bright cube, from a datalist of images and class labels."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from conftest import run_clara

# the slow tier: 2D networks trained and validated on 16 cases
pytestmark = pytest.mark.slow

CONFIG = {
    "epochs": 12, "num_training_epoch_per_valid": 3, "learning_rate": 0.001,
    "determinism": {"random_seed": 3},
    "train": {
        "loss": {"name": "MulticlassClassificationLoss"},
        "optimizer": {"name": "Adam"},
        "model": {"name": "ResNet18", "args": {"num_classes": 2,
                                              "data_format": "channels_last"}},
        "pre_transforms": [
            {"name": "LoadNifti", "args": {"fields": "image"}},
            {"name": "ConvertToChannelsFirst", "args": {"fields": "image"}},
            {"name": "RandomAxisFlip", "args": {"fields": "image", "probability": 0.5}}],
        "image_pipeline": {"name": "ClassificationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "output_batch_size": 4, "num_classes": 2, "output_data_format": "channels_last",
            "num_workers": 2}},
    },
    "validate": {
        "metrics": [{"name": "ComputeAccuracy", "args": {"name": "accuracy",
                                                        "is_key_metric": True}},
                    {"name": "ComputeAUC", "args": {"name": "auc"}}],
        "pre_transforms": [{"ref": "LoadNifti"}, {"ref": "ConvertToChannelsFirst"}],
        "image_pipeline": {"name": "ClassificationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "data_list_key": "validation", "num_classes": 2,
            "output_data_format": "channels_last"}},
        "inferer": {"name": "TFSimpleInferer"},
    },
}


def test_classification_pipeline_trains_and_validates(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "config").mkdir()
    data = tmp_path / "data"
    data.mkdir()
    items = []
    for i in range(40):
        image = rng.normal(0, 0.3, (16, 16, 16)).astype(np.float32)
        label = i % 2
        if label:
            c = rng.integers(4, 12, 3)
            image[c[0] - 3:c[0] + 3, c[1] - 3:c[1] + 3, c[2] - 3:c[2] + 3] += 2.0
        nib.save(nib.Nifti1Image(image, np.eye(4)), data / f"case{i}.nii.gz")
        items.append({"image": f"case{i}.nii.gz", "label": label})
    (data / "dataset.json").write_text(json.dumps({"training": items[:24],
                                                   "validation": items[24:]}))
    (tmp_path / "config" / "environment.json").write_text(json.dumps(
        {"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", "MMAR_CKPT_DIR": "models"}))
    (tmp_path / "config" / "config_train.json").write_text(json.dumps(CONFIG))
    out = run_clara("train", "-m", str(tmp_path), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [json.loads(s) for s in
             (tmp_path / "models" / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["loss"] < lines[0]["loss"]
    validated = [r for r in lines if "accuracy" in r]
    assert len(validated) == 4 and validated[-1]["auc"] >= 0.9, validated
    assert max(r["accuracy"] for r in validated) >= 0.875, validated
    # clara validate with the SDK's classification writer: one CSV row per case
    (tmp_path / "config" / "config_validation.json").write_text(json.dumps({
        "model_loader": {"name": "CheckpointLoader",
                         "args": {"checkpoint_dir": "{MMAR_CKPT_DIR}"}},
        "pre_transforms": [{"name": "LoadNifti", "args": {"fields": "image"}},
                           {"name": "ConvertToChannelsFirst", "args": {"fields": "image"}}],
        "inferer": {"name": "TFSimpleInferer"},
        "val_metrics": [{"name": "ComputeAccuracy", "args": {"name": "accuracy"}}],
        "writers": [{"name": "WriteClassificationResult",
                     "args": {"field": "model", "write_path": "eval"}}]}))
    out = run_clara("validate", "-m", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    rows = (tmp_path / "eval" / "classification_result.csv").read_text().splitlines()
    assert rows[0] == "image,prediction,p0,p1" and len(rows) == 17
    predicted = {r.split(",")[0]: int(r.split(",")[1]) for r in rows[1:]}
    truth = {item["image"]: item["label"] for item in items[24:]}
    right = sum(predicted[name] == label for name, label in truth.items())
    assert f"accuracy: {right / 16:.4f}" in out.stdout
    # clara infer segments: a classifier is told where its predictions come from
    infer = run_clara("infer", "-m", str(tmp_path), "-i", str(data / "case30.nii.gz"),
                      "-o", str(tmp_path / "out"))
    assert infer.returncode == 2 and "Traceback" not in infer.stderr, infer.stderr
    assert "classifies images" in infer.stderr and "output_infer_result=true" in infer.stderr
