import numpy as np
import pytest
from clara_losses.dice import Dice

from clara_core.testing import parametrize_with_checks


@parametrize_with_checks([Dice(), Dice(skip_background=True, squared_pred=True, jaccard=True),
                          Dice("channels_last", is_onehot_targets=True)])
def test_conformance(component, check):
    check(component)


def reference_dice(pred, onehot, squared, jaccard, smooth, top_smooth):
    axes = tuple(range(2, pred.ndim))
    inter = (pred * onehot).sum(axes)
    if squared:
        pred, onehot = pred**2, onehot**2
    den = pred.sum(axes) + onehot.sum(axes)
    if jaccard:
        den = den - inter
    return 1 - ((2 * inter + top_smooth) / (den + smooth)).mean()


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("jaccard", [False, True])
@pytest.mark.parametrize("skip", [False, True])
def test_dice_matches_numpy_reference(squared, jaccard, skip):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 6, 6, 6))
    pred = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    label = rng.integers(0, 3, size=(2, 1, 6, 6, 6))
    onehot = np.moveaxis(np.eye(3)[label[:, 0]], -1, 1)
    loss = Dice(skip_background=skip, squared_pred=squared, jaccard=jaccard, top_smooth=0.5)
    got = float(loss.get_loss(pred.astype("float32"), label.astype("float32")))
    p, t = (pred[:, 1:], onehot[:, 1:]) if skip else (pred, onehot)
    assert got == pytest.approx(reference_dice(p, t, squared, jaccard, 1e-5, 0.5), rel=1e-5)


def test_channels_last_equals_channels_first():
    rng = np.random.default_rng(1)
    pred = rng.random((2, 2, 5, 5)).astype("float32")
    label = rng.integers(0, 2, size=(2, 1, 5, 5)).astype("float32")
    first = float(Dice().get_loss(pred, label))
    last = float(Dice(data_format="channels_last").get_loss(
        np.moveaxis(pred, 1, -1), np.moveaxis(label, 1, -1)))
    assert first == pytest.approx(last, rel=1e-6)


def test_invalid_argument_message():
    with pytest.raises(ValueError, match=r"Invalid value for argument `smooth` of Dice: "
                                         r"expected a float >= 0, received -1"):
        Dice(smooth=-1)
