"""The loss catalog: conformance kit for every loss, and edge cases per loss.

Values are cross-checked against MONAI and PyTorch in ``crosscheck/`` (nox -s
crosscheck); here, behaviour that needs no second implementation.
"""

import numpy as np
import pytest
import tensorflow as tf
from clara_losses.classification import (
    BinaryClassificationLoss,
    MulticlassClassificationLoss,
    WeightedMulticlassClassificationLoss,
)
from clara_losses.combined import CrossEntropyDice, FocalDice
from clara_losses.cross_entropy import CrossEntropy, Focal
from clara_losses.dice import Dice
from clara_losses.overlap import GeneralizedDice, Tversky

from clara_core.testing import parametrize_with_checks

SEGMENTATION = [
    CrossEntropy(), CrossEntropy("channels_last", is_onehot_targets=True),
    Focal(), Focal("channels_last", gamma=0.5, alpha=0.25, skip_background=True),
    CrossEntropyDice(skip_background=True), FocalDice("channels_last"),
    CrossEntropyDice("channels_last", is_onehot_targets=True, sigmoid=True),
    Tversky(alpha=0.3, beta=0.7), Tversky("channels_last", skip_background=True),
    GeneralizedDice(), GeneralizedDice("channels_last", w_type="simple", skip_background=True),
    GeneralizedDice(w_type="uniform"),
]


@parametrize_with_checks(SEGMENTATION + [MulticlassClassificationLoss(),
                                         WeightedMulticlassClassificationLoss([1.0, 2.0, 0.5])])
def test_conformance(component, check):
    check(component)


def binary_inputs(loss):
    rng = np.random.default_rng(0)
    return {"random": (rng.normal(size=(6, 1)), rng.integers(0, 2, size=(6, 1))),
            "all_positive": (rng.normal(size=(6, 1)), np.ones((6, 1)))}


@parametrize_with_checks([BinaryClassificationLoss()], sample=binary_inputs)
def test_binary_conformance(component, check):
    # softmax over one channel is 1 everywhere: the extreme probability edge case
    check(component)


def probabilities(shape, seed=0, channels_last=False):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=shape)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return (np.moveaxis(p, 1, -1) if channels_last else p).astype(np.float32)


@pytest.mark.parametrize("loss", [Dice(), CrossEntropy(), Focal(), Tversky(), GeneralizedDice(),
                                  CrossEntropyDice(), FocalDice()], ids=lambda c: type(c).__name__)
def test_2d_and_3d_and_both_layouts_agree(loss):
    for shape in [(2, 3, 5, 6), (2, 3, 4, 5, 3)]:
        p = probabilities(shape)
        y = np.random.default_rng(1).integers(0, 3, size=(shape[0], 1, *shape[2:]))
        first = float(loss.get_loss(p, y.astype(np.float32)))
        last_loss = type(loss).from_config({**loss.get_config(), "data_format": "channels_last"})
        last = float(last_loss.get_loss(np.moveaxis(p, 1, -1), np.moveaxis(y, 1, -1)))
        assert first == pytest.approx(last, rel=1e-6)


@pytest.mark.parametrize("loss", [Dice(), CrossEntropy(), Focal(), Tversky(), GeneralizedDice()],
                         ids=lambda c: type(c).__name__)
def test_onehot_and_label_map_targets_agree(loss):
    p = probabilities((2, 3, 4, 4, 4))
    y = np.random.default_rng(2).integers(0, 3, size=(2, 1, 4, 4, 4))
    onehot = np.moveaxis(np.eye(3)[y[:, 0]], -1, 1).astype(np.float32)
    as_onehot = type(loss).from_config({**loss.get_config(), "is_onehot_targets": True})
    assert float(loss.get_loss(p, y)) == pytest.approx(float(as_onehot.get_loss(p, onehot)),
                                                       rel=1e-6)


def test_sigmoid_cross_entropy_is_the_binary_cross_entropy_of_each_channel():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.95, size=(2, 3, 4, 5)).astype(np.float32)
    t = (rng.random((2, 3, 4, 5)) > 0.5).astype(np.float32)  # overlapping channels
    expected = np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))
    got = CrossEntropy(is_onehot_targets=True, sigmoid=True).get_loss(p, t)
    assert float(got) == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ValueError, match="is_onehot_targets"):
        CrossEntropy(sigmoid=True)


def test_perfect_prediction_scores_zero():
    y = np.random.default_rng(3).integers(0, 3, size=(2, 1, 4, 4, 4))
    p = np.moveaxis(np.eye(3)[y[:, 0]], -1, 1).astype(np.float32)
    for loss in (Dice(skip_background=True), Tversky(), GeneralizedDice(), Focal()):
        assert float(loss.get_loss(p, y)) == pytest.approx(0.0, abs=1e-4), type(loss).__name__


def test_float16_predictions_give_a_float32_loss():
    for loss in SEGMENTATION:
        last = loss.data_format == "channels_last"
        p = tf.constant(probabilities((2, 3, 4, 4, 4), channels_last=last), tf.float16)
        y = np.zeros((2, 4, 4, 4, 1) if last else (2, 1, 4, 4, 4), np.float32)
        if loss.is_onehot_targets:
            y = np.concatenate([1 - y, y, y], axis=-1 if last else 1)
        value = loss.get_loss(p, y)
        assert value.dtype == tf.float32 and np.isfinite(float(value))


def test_wrong_target_channels_say_what_to_change():
    p = probabilities((1, 3, 4, 4))
    with pytest.raises(ValueError, match="set is_onehot_targets to true"):
        Tversky().get_loss(p, np.zeros((1, 3, 4, 4), np.float32))
    with pytest.raises(ValueError, match="Focal: skip_background is true but the prediction "
                                         "has 1 channel"):
        Focal(skip_background=True).get_loss(p[:, :1], np.zeros((1, 1, 4, 4), np.float32))


def test_weighted_loss_needs_one_weight_per_class():
    with pytest.raises(ValueError, match="2 weights for 3 classes"):
        WeightedMulticlassClassificationLoss([1.0, 2.0]).get_loss(
            probabilities((2, 3)), np.array([0, 1]))
