"""BraTS-style multi-label: TC/WT/ET channels, sigmoid outputs end to end.

Labels 1, 2, 4 become three overlapping channels (ConvertToMultiChannelBasedOnBratsClasses);
the network ends in a sigmoid; the Dice loss, the DiceMaskedOutput aux op and the
ComputeAverageDice metric read each channel on its own (no argmax); ``clara validate``
writes the three channels, and ``clara infer`` thresholds them instead of taking the argmax.
"""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
from conftest import run_clara

from clara_core import MedicalImage, TransformContext


def brats_case(folder: Path, seed: int) -> dict[str, str]:
    """A 16^3 scan: oedema (2) around a core (1) around an enhancing centre (4)."""
    rng = np.random.default_rng(seed)
    grid = np.indices((16, 16, 16)).astype(np.float32)
    centre = 8 + rng.integers(-2, 3, size=3)
    r = np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, centre, strict=True)))
    label = np.select([r < 2.5, r < 4.5, r < 6.5], [4, 1, 2], 0).astype(np.uint8)
    image = np.select([label == 4, label == 1, label == 2], [3.0, 2.0, 1.0], 0.0)
    image = (image + rng.normal(scale=0.2, size=label.shape)).astype(np.float32)
    for kind, data in (("image", image), ("label", label)):
        nib.save(nib.Nifti1Image(data, np.eye(4)), folder / f"{kind}{seed}.nii.gz")
    return {"image": f"image{seed}.nii.gz", "label": f"label{seed}.nii.gz"}


LAST = {"data_format": "channels_last"}
CONFIG = {
    "epochs": 2, "num_training_epoch_per_valid": 1, "learning_rate": 0.01,
    "determinism": {"random_seed": 3},
    "train": {
        "loss": {"name": "Dice", "args": {**LAST, "is_onehot_targets": True,
                                          "skip_background": False}},
        "optimizer": {"name": "Adam"},
        "model": {"name": "Unet", "args": {**LAST, "num_classes": 3, "filters": 4, "depth": 2,
                                           "final_activation": "sigmoid"}},
        "pre_transforms": [
            {"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
            {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}},
            {"name": "ConvertToMultiChannelBasedOnBratsClasses",
             "args": {"fields": "label", "class_names": ["TC", "WT", "ET"]}},
            {"name": "RandomAxisFlip", "args": {"fields": ["image", "label"],
                                                "probability": 0.5}}],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "output_batch_size": 2, **{"output_data_format": "channels_last"}}},
        "aux_ops": [{"name": "DiceMaskedOutput", "args": {
            **LAST, "is_onehot_targets": True, "skip_background": False,
            "tags": ["dice_tc", "dice_wt", "dice_et"]}}],
    },
    "validate": {
        "metrics": [{"name": "ComputeAverageDice", "args": {
            "name": "mean_dice", "is_key_metric": True, "remove_bg": False,
            "is_one_hot_targets": True}}],
        "pre_transforms": [{"ref": "LoadNifti"}, {"ref": "ConvertToChannelsFirst"},
                           {"ref": "ConvertToMultiChannelBasedOnBratsClasses"}],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "data_list_key": "validation", "output_data_format": "channels_last"}},
        "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}},
    },
}

VALIDATION = {
    "model_loader": {"name": "CheckpointLoader", "args": {"checkpoint_dir": "{MMAR_CKPT_DIR}"}},
    "pre_transforms": CONFIG["train"]["pre_transforms"][:3],
    "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}},
    "val_metrics": [{"name": "ComputeAverageDice", "args": {
        "name": "mean_dice", "remove_bg": False, "is_one_hot_targets": True}}],
    "writers": [{"name": "WriteNifti", "args": {"field": "model", "write_path": "eval",
                                                "dtype": "float32"}}],
}


def test_the_brats_conversion_gives_overlapping_channels():
    from clara_transforms_basic.brats import ConvertToMultiChannelBasedOnBratsClasses

    ctx = TransformContext()
    # 4 is the enhancing tumour up to BraTS 2021, 3 from BraTS 2023 on
    ctx.set_image("label", MedicalImage(np.array([[[0, 1, 2, 4, 3]]], np.uint8), "CHW"))
    out = ConvertToMultiChannelBasedOnBratsClasses("label", ["ET", "WT"], "uint8")
    data = out.transform(ctx).get_image("label").get_data()
    assert data.dtype == np.uint8 and data[:, 0].tolist() == [[0, 0, 0, 1, 1], [0, 1, 1, 1, 1]]


def test_brats_multilabel_trains_validates_and_infers(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    items = [brats_case(data, s) for s in range(4)]
    (data / "dataset.json").write_text(json.dumps({"training": items[:3],
                                                   "validation": items[3:]}))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "environment.json").write_text(json.dumps(
        {"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", "MMAR_CKPT_DIR": "models",
         "MMAR_EVAL_OUTPUT_PATH": "eval"}))
    (tmp_path / "config" / "config_train.json").write_text(json.dumps(CONFIG))
    (tmp_path / "config" / "config_validation.json").write_text(json.dumps(VALIDATION))

    out = run_clara("train", "-m", str(tmp_path), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    records = [json.loads(line) for line in
               (tmp_path / "models" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2]
    for record in records:  # one Dice per channel from the aux op, the metric per channel
        assert {"dice_tc", "dice_wt", "dice_et", "mean_dice"} <= set(record), record
        assert all(0.0 <= record[k] <= 1.0 for k in ("dice_tc", "dice_wt", "dice_et"))

    out = run_clara("validate", "-m", str(tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    written = list((tmp_path / "eval").glob("*.nii.gz"))
    assert len(written) == 1
    probabilities = np.asarray(nib.load(written[0]).dataobj)
    assert probabilities.shape == (16, 16, 16, 3)  # three channels, not an argmax
    assert probabilities.min() >= 0.0 and probabilities.max() <= 1.0

    out = run_clara("infer", "-m", str(tmp_path), "-i", str(data / "image3.nii.gz"),
                    "-o", str(tmp_path / "seg"))
    assert out.returncode == 0, out.stdout + out.stderr
    seg = np.asarray(nib.load(tmp_path / "seg" / "image3_seg.nii.gz").dataobj)
    assert seg.shape == (16, 16, 16, 3) and seg.dtype == np.uint8
    # each channel thresholded at 0.5 on its own (the overlapping classes kept), no argmax
    np.testing.assert_array_equal(seg, (probabilities > 0.5).astype(np.uint8))
