"""The conformance kit catches what it claims to: broken losses and metrics fail it."""

from __future__ import annotations

import pytest

from clara_core import Loss, Metric, MetricList, TransformContext
from clara_core.testing import (
    check_loss_contract,
    check_metric_contract,
    checks_for,
    default_metric_inputs,
)


class UnsmoothedRecallLoss(Loss):
    """1 - TP / (TP + FN) per class, without smoothing: 0/0 when a class is empty."""

    def __init__(self, data_format: str = "channels_first") -> None:
        self.data_format = data_format

    def get_loss(self, predictions, targets, build_ctx=None):
        import tensorflow as tf

        t = tf.one_hot(tf.cast(targets[:, 0], tf.int32), 3, axis=1)
        p = tf.cast(predictions, tf.float32)
        recall = tf.reduce_sum(p * t, axis=[2, 3, 4]) / tf.reduce_sum(t, axis=[2, 3, 4])
        return 1 - tf.reduce_mean(recall)


class HalfPrecisionLoss(Loss):
    def __init__(self, data_format: str = "channels_first") -> None:
        self.data_format = data_format

    def get_loss(self, predictions, targets, build_ctx=None):
        import tensorflow as tf

        return tf.reduce_mean(predictions)  # float16 in, float16 out


class PerVoxelLoss(Loss):
    def __init__(self, data_format: str = "channels_first") -> None:
        self.data_format = data_format

    def get_loss(self, predictions, targets, build_ctx=None):
        import tensorflow as tf

        return tf.cast(predictions, tf.float32)[:, 0]


class RaisingMetric(Metric):
    def __init__(self, name: str = "m") -> None:
        Metric.__init__(self, MetricList(name), field="model", label_field="label")

    def compute(self, transform_ctx: TransformContext):
        data = transform_ctx.get_image("label").get_data()
        if not data.any():
            raise ZeroDivisionError("empty label")
        return 1.0


def test_loss_checks_apply_to_losses_and_metric_checks_to_metrics():
    assert check_loss_contract in checks_for(HalfPrecisionLoss())
    assert check_metric_contract in checks_for(RaisingMetric())


@pytest.mark.parametrize("loss, message", [
    (UnsmoothedRecallLoss(), "is nan on 'empty_classes' inputs"),
    (HalfPrecisionLoss(), "is float16: cast predictions to float32"),
    (PerVoxelLoss(), "return a scalar"),
], ids=["nan-on-empty-class", "float16-result", "not-a-scalar"])
def test_loss_contract_catches(loss, message):
    with pytest.raises(AssertionError, match=message):
        check_loss_contract(loss)


def test_metric_contract_catches_a_metric_that_raises_on_empty_masks():
    with pytest.raises(AssertionError, match="raised on the 'both_empty' case"):
        check_metric_contract(RaisingMetric())
    assert set(default_metric_inputs(RaisingMetric())) >= {"both_empty", "single_voxels"}


# -- transform checks catch broken transforms --------------------------------------

import numpy as np  # noqa: E402

from clara_core import MultiFieldTransformer  # noqa: E402
from clara_core.testing import (  # noqa: E402
    check_bad_input_clear_error,
    check_geometry_consistent,
    check_probability_zero_is_identity,
    check_same_seed_same_output,
)


class GlobalRandomNoise(MultiFieldTransformer):
    """Draws from np.random instead of self.R: not reproducible from its seed."""

    def is_deterministic(self):
        return False

    def transform(self, ctx):
        for f in self.fields:
            img = ctx.get_image(f)
            noisy = img.get_data() + np.random.normal(size=img.get_data().shape)
            ctx.set_image(f, img.new_image(noisy, img.get_shape_format()))
        return ctx


class AlwaysFlip(MultiFieldTransformer):
    """Has a probability it ignores, and flips the data without updating the affine."""

    def __init__(self, fields, probability=0.5):
        MultiFieldTransformer.__init__(self, fields)
        self.probability = probability

    def is_deterministic(self):
        return False

    def transform(self, ctx):
        for f in self.fields:
            img = ctx.get_image(f)
            ctx.set_image(f, img.new_image(img.get_data()[:, ::-1], img.get_shape_format()))
        return ctx


class CropImageOnlyAffine(MultiFieldTransformer):
    """Crops both fields but shifts only the first field's affine."""

    def transform(self, ctx):
        for i, f in enumerate(self.fields):
            img = ctx.get_image(f)
            out = img.new_image(img.get_data()[:, 2:10, 2:10, 2:10], img.get_shape_format())
            if i == 0:
                affine = np.array(img.get_property("affine"), float)
                affine[:3, 3] += affine[:3, :3] @ [2, 2, 2]
                out.set_property("affine", affine)
            ctx.set_image(f, out)
        return ctx


class SilentLoader(MultiFieldTransformer):
    """Swallows the missing file's name."""

    def transform(self, ctx):
        for f in self.fields:
            try:
                open(ctx[f]).close()
            except OSError:
                raise ValueError("could not load") from None
        return ctx


def test_kit_catches_unseeded_randomness():
    with pytest.raises(AssertionError, match="self.R"):
        check_same_seed_same_output(GlobalRandomNoise(["image"]))


def test_kit_catches_ignored_probability():
    with pytest.raises(AssertionError, match="probability=0"):
        check_probability_zero_is_identity(AlwaysFlip(["image"]))


def test_kit_catches_misaligned_geometry():
    with pytest.raises(AssertionError, match="different affines"):
        check_geometry_consistent(CropImageOnlyAffine(["image", "label"]))


def test_kit_catches_an_error_without_the_file_name(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("x")
    with pytest.raises(AssertionError, match="must name"):
        check_bad_input_clear_error(SilentLoader(["image"]),
                                    sample=lambda c: TransformContext({"image": str(path)}))
