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
