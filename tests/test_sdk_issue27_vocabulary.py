"""Issue 27's vocabulary: ConvertToChannelsLast, the BraTS conversion, the pipelines'
``duplicate_count``, multi-label aux op and metric, and TLT names refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_clara
from train_mmar import make_train_mmar

from clara_core import MedicalImage, TransformContext


def test_channels_last_undoes_channels_first_in_2d_3d_and_batches():
    from clara_transforms_basic.channels import ConvertToChannelsFirst, ConvertToChannelsLast

    rng = np.random.default_rng(0)
    data = rng.random((4, 5, 6, 2))
    for given, fmt, expected, last in [(data, "DHWC", data, "DHWC"),
                                       (data[..., 0], "DHW", data[..., :1], "DHWC"),
                                       (data, "NCHW", np.moveaxis(data, 1, -1), "NHWC")]:
        ctx = TransformContext()
        ctx.set_image("image", MedicalImage(given, fmt))
        ConvertToChannelsFirst("image").transform(ctx)
        out = ConvertToChannelsLast("image").transform(ctx).get_image("image")
        assert str(out.get_shape_format()) == last
        np.testing.assert_array_equal(out.get_data(), expected)


def test_duplicate_count_repeats_each_case_in_an_epoch(tmp_path):
    from clara_core.data.segmentation import SegmentationImagePipelineWithCache

    root = make_train_mmar(tmp_path, cases=3)
    pipeline = SegmentationImagePipelineWithCache(
        str(root / "data" / "dataset.json"), str(root / "data"), duplicate_count=3)
    items = pipeline.items()
    assert len(items) == 6 and items[0] == items[1] == items[2] != items[3]
    with pytest.raises(Exception, match="duplicate_count"):
        SegmentationImagePipelineWithCache("dataset.json", duplicate_count=0)


MERGE = '[{"name": "MergeBatchDims", "args": {"fields": ["image", "label"]}}]'


@pytest.mark.parametrize("sdk, note, steps", [
    # the transforms make the batch: one case's crops a step (output_batch_size 0, as
    # the SDK's Smart Cache guide writes it)
    (["train.image_pipeline.args.batched_by_transforms=true",
      "train.image_pipeline.args.output_batch_size=0"],
     "2 samples a step (all the samples of one case: batched_by_transforms)", 4),
    # B cases of N crops merged into one batch axis by the batch transform
    ([f"train.batch_transforms={MERGE}", "train.image_pipeline.args.output_batch_size=2"],
     "4 samples a step (all the samples of 2 cases: MergeBatchDims)", 2),
])
def test_the_sdks_batching_forms_take_the_batch_they_took(tmp_path, sdk, note, steps):
    root = make_train_mmar(tmp_path, cases=5, epochs=1)  # 4 training cases x 2 crops
    out = run_clara("train", "-m", str(root), "--no-progress", "--set", *sdk)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert note in out.stdout, out.stdout
    epoch = json.loads((root / "models" / "metrics.jsonl").read_text().splitlines()[0])
    assert epoch["steps"] == steps  # 8 samples an epoch


def test_duplicate_count_repeats_each_classification_case(tmp_path):
    from clara_core.data.classification import ClassificationImagePipeline

    for i in range(3):
        (tmp_path / f"c{i}.png").touch()  # listed, not read
    (tmp_path / "dataset.json").write_text(json.dumps({"training": [
        {"image": f"c{i}.png", "label": i % 2} for i in range(3)]}))
    pipeline = ClassificationImagePipeline(str(tmp_path / "dataset.json"), str(tmp_path),
                                           num_classes=2, duplicate_count=2)
    assert [item["label"] for item in pipeline.items()] == [0, 0, 1, 1, 0, 0]


def test_a_tlt_name_is_refused_in_one_line_naming_the_new_one(tmp_path):
    root = make_train_mmar(tmp_path, cases=2)
    path = root / "config" / "config_train.json"
    config = json.loads(path.read_text())
    config["train"]["pre_transforms"][0]["name"] = "LoadNifty"
    config["validate"]["pre_transforms"][0] = config["train"]["pre_transforms"][0]
    path.write_text(json.dumps(config))
    check = run_clara("config", "check", "-m", str(root))
    problems = [line for line in check.stderr.splitlines() if line.startswith("  - ")]
    assert check.returncode == 2 and len(problems) == 2, check.stderr  # train and validate
    assert all("TLT name" in p and '"name": "LoadNifti"' in p for p in problems)


def test_the_multilabel_aux_op_keeps_the_aux_op_contract():
    from clara_metrics.training import DiceMaskedOutput

    from clara_core import BuildContext
    from clara_core.testing.io_checks import check_aux_op_contract

    def sample(op):
        rng = np.random.default_rng(1)
        probs = 1 / (1 + np.exp(-rng.normal(size=(2, 3, 8, 8, 8))))
        labels = rng.integers(0, 2, size=(2, 3, 8, 8, 8))
        return BuildContext({BuildContext.KEY_PREDICTIONS: probs.astype(np.float32),
                             BuildContext.KEY_LABEL_INPUT: labels.astype(np.float32)})

    check_aux_op_contract(DiceMaskedOutput(is_onehot_targets=True, skip_background=False,
                                           tags=["dice_tc", "dice_wt", "dice_et"]), sample)


def _components():
    from clara_metrics.dice import ComputeAverageDice
    from clara_transforms_basic.brats import ConvertToMultiChannelBasedOnBratsClasses
    from clara_transforms_basic.channels import ConvertToChannelsLast

    from clara_core.data.segmentation import SegmentationImagePipelineWithCache

    return [ConvertToChannelsLast(["image", "label"]),
            ConvertToMultiChannelBasedOnBratsClasses("label", ["TC", "WT", "ET"], "uint8"),
            ComputeAverageDice("mean_dice", remove_bg=False, is_one_hot_targets=True),
            SegmentationImagePipelineWithCache("dataset.json", num_cache_objects=4,
                                               replace_percent=0.5, duplicate_count=2)]


from clara_core.testing import conformance_tests  # noqa: E402

test_issue27_components_conform = conformance_tests(_components())


def test_overlapping_label_channels_without_is_one_hot_targets_say_what_to_set():
    from clara_metrics.dice import ComputeAverageDice

    ctx = TransformContext()
    channels = np.stack([np.eye(3), np.ones((3, 3))])  # WT contains TC: they overlap
    ctx.set_image("model", MedicalImage(channels * 0.9, "CHW"))
    ctx.set_image("label", MedicalImage(channels, "CHW"))
    with pytest.raises(ValueError, match="set is_one_hot_targets to true"):
        ComputeAverageDice("dice").update(ctx)
    metric = ComputeAverageDice("dice", remove_bg=False, is_one_hot_targets=True)
    metric.update(ctx)
    assert metric.get() == 1.0
