"""Every loss against its MONAI / PyTorch counterpart, relative tolerance 1e-5.

Our losses take probabilities (the model's final activation); MONAI's take the
logits and apply softmax/sigmoid themselves. Mappings where definitions differ:

- Dice ``smooth``/``top_smooth`` are MONAI's ``smooth_dr``/``smooth_nr``.
- Dice ``jaccard=True`` is the seed's ``(2I+top)/(T+P-I+smooth)``, twice the
  soft IoU; MONAI doubles the denominator: ours = 2 * MONAI - 1 with
  ``smooth_dr = 2 * smooth``.
- Focal sums over classes per voxel (Lin et al.); MONAI also averages over
  channels: ours = channels * MONAI. Without background, MONAI drops the
  background logit before its softmax, we drop the background term after it.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from clara_losses.classification import (
    BinaryClassificationLoss,
    MulticlassClassificationLoss,
    WeightedMulticlassClassificationLoss,
)
from clara_losses.combined import CrossEntropyDice, FocalDice
from clara_losses.cross_entropy import CrossEntropy, Focal
from clara_losses.dice import Dice
from clara_losses.overlap import GeneralizedDice, Tversky
from monai import losses as ml

SPATIAL = [(6, 7, 5), (9, 8)]


def softmax(z: np.ndarray, axis: int = 1) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ours(loss, logits, labels, layout="channels_first", onehot=None, activation=softmax):
    p = activation(logits.astype(np.float64)).astype(np.float32)
    t = labels if onehot is None else onehot
    if layout == "channels_last":
        p, t = np.moveaxis(p, 1, -1), np.moveaxis(t, 1, -1)
    return float(loss.get_loss(p, t))


def monai(loss, logits, labels):
    return float(loss(torch.from_numpy(logits), torch.from_numpy(labels)))


@pytest.mark.parametrize("spatial", SPATIAL)
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("squared", [False, True])
def test_dice(seg_batch, spatial, layout, skip, squared):
    z, y = seg_batch(spatial)
    got = ours(Dice(layout, skip, squared, smooth=1e-4, top_smooth=1e-3), z, y, layout)
    ref = monai(ml.DiceLoss(include_background=not skip, to_onehot_y=True, softmax=True,
                            squared_pred=squared, smooth_nr=1e-3, smooth_dr=1e-4), z, y)
    assert got == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("skip", [False, True])
def test_dice_jaccard_mapping(seg_batch, skip):
    z, y = seg_batch()
    got = ours(Dice(skip_background=skip, jaccard=True, smooth=1e-4, top_smooth=1e-3), z, y)
    ref = monai(ml.DiceLoss(include_background=not skip, to_onehot_y=True, softmax=True,
                            jaccard=True, smooth_nr=1e-3, smooth_dr=2e-4), z, y)
    assert got == pytest.approx(2 * ref - 1, rel=1e-5)


def test_dice_sigmoid_with_onehot_targets(seg_batch):
    z, y = seg_batch()
    onehot = np.moveaxis(np.eye(3, dtype=np.float32)[y[:, 0].astype(int)], -1, 1)
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    got = ours(Dice(is_onehot_targets=True), z, y, onehot=onehot, activation=sigmoid)
    ref = monai(ml.DiceLoss(sigmoid=True, smooth_nr=0.0, smooth_dr=1e-5), z, onehot)
    assert got == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("skip", [False, True])
def test_cross_entropy_dice(seg_batch, layout, skip):
    z, y = seg_batch()
    loss = CrossEntropyDice(layout, lambda_dice=0.7, lambda_ce=1.3, skip_background=skip,
                            smooth=1e-5, top_smooth=1e-5)
    ref = monai(ml.DiceCELoss(include_background=not skip, to_onehot_y=True, softmax=True,
                              lambda_dice=0.7, lambda_ce=1.3), z, y)
    assert ours(loss, z, y, layout) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_cross_entropy_dice_sigmoid_regions(seg_batch, layout):
    z, y = seg_batch()  # overlapping region channels: label >= 1 and label >= 2
    regions = np.concatenate([y >= 1, y >= 2], axis=1).astype(np.float32)
    sigmoid = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    loss = CrossEntropyDice(layout, lambda_dice=0.7, lambda_ce=1.3, smooth=1e-5,
                            top_smooth=1e-5, is_onehot_targets=True, sigmoid=True)
    # nnU-Net's region loss (DC_and_BCE_loss): MONAI's sigmoid Dice plus binary cross-entropy
    # per channel. (MONAI's DiceCELoss(sigmoid=True) takes the softmax cross-entropy for
    # several channels, which treats overlapping regions as exclusive classes.)
    dice = monai(ml.DiceLoss(sigmoid=True), z[:, :2], regions)
    bce = monai(torch.nn.BCEWithLogitsLoss(), z[:, :2], regions)
    got = ours(loss, z[:, :2], y, layout, onehot=regions, activation=sigmoid)
    assert got == pytest.approx(0.7 * dice + 1.3 * bce, rel=1e-5)


def test_cross_entropy(seg_batch):
    z, y = seg_batch((9, 8))
    ref = float(torch.nn.CrossEntropyLoss()(torch.from_numpy(z),
                                            torch.from_numpy(y[:, 0]).long()))
    assert ours(CrossEntropy(), z, y) == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("spatial", SPATIAL)
@pytest.mark.parametrize("gamma", [0.0, 2.0, 3.5])
def test_focal(seg_batch, spatial, gamma):
    z, y = seg_batch(spatial)
    ref = monai(ml.FocalLoss(to_onehot_y=True, use_softmax=True, gamma=gamma), z, y)
    assert ours(Focal(gamma=gamma), z, y) == pytest.approx(3 * ref, rel=1e-5)


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_focal_without_background(seg_batch, gamma):
    """MONAI drops the background logit before its softmax; ours keeps the full softmax
    and drops the background term. Same value once given MONAI's probabilities."""
    z, y = seg_batch()
    ref = monai(ml.FocalLoss(include_background=False, to_onehot_y=True, use_softmax=True,
                             gamma=gamma), z, y)
    onehot = np.moveaxis(np.eye(3, dtype=np.float32)[y[:, 0].astype(int)], -1, 1)
    got = ours(Focal(gamma=gamma, is_onehot_targets=True), z[:, 1:], y, onehot=onehot[:, 1:])
    assert got == pytest.approx(2 * ref, rel=1e-5)


def test_focal_alpha(seg_batch):
    z, y = seg_batch()
    ref = monai(ml.FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0, alpha=0.25), z, y)
    assert ours(Focal(gamma=2.0, alpha=0.25), z, y) == pytest.approx(3 * ref, rel=1e-5)


def test_focal_dice(seg_batch):
    z, y = seg_batch()
    dice = monai(ml.DiceLoss(to_onehot_y=True, softmax=True, smooth_nr=0.0), z, y)
    focal = monai(ml.FocalLoss(to_onehot_y=True, use_softmax=True, gamma=2.0), z, y)
    got = ours(FocalDice(lambda_dice=0.5, lambda_focal=2.0), z, y)
    assert got == pytest.approx(0.5 * dice + 2.0 * 3 * focal, rel=1e-5)


@pytest.mark.parametrize("alpha,beta", [(0.5, 0.5), (0.3, 0.7), (0.9, 0.1)])
@pytest.mark.parametrize("skip", [False, True])
def test_tversky(seg_batch, alpha, beta, skip):
    z, y = seg_batch()
    ref = monai(ml.TverskyLoss(include_background=not skip, to_onehot_y=True, softmax=True,
                               alpha=alpha, beta=beta), z, y)
    got = ours(Tversky(alpha=alpha, beta=beta, skip_background=skip), z, y)
    assert got == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize("spatial", SPATIAL)
@pytest.mark.parametrize("w_type", ["square", "simple", "uniform"])
@pytest.mark.parametrize("skip", [False, True])
def test_generalized_dice(seg_batch, spatial, w_type, skip):
    z, y = seg_batch(spatial)
    ref = monai(ml.GeneralizedDiceLoss(include_background=not skip, to_onehot_y=True,
                                       softmax=True, w_type=w_type), z, y)
    got = ours(GeneralizedDice(w_type=w_type, skip_background=skip), z, y)
    assert got == pytest.approx(ref, rel=1e-5)


def test_classification_losses():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(16, 4)).astype(np.float32)
    y = rng.integers(0, 4, size=16)
    p = softmax(z.astype(np.float64)).astype(np.float32)
    ref = float(torch.nn.CrossEntropyLoss()(torch.from_numpy(z), torch.from_numpy(y)))
    assert float(MulticlassClassificationLoss().get_loss(p, y)) == pytest.approx(ref, rel=1e-5)
    w = [0.5, 1.0, 2.0, 4.0]
    ref = float(torch.nn.CrossEntropyLoss(weight=torch.tensor(w))(torch.from_numpy(z),
                                                                   torch.from_numpy(y)))
    got = float(WeightedMulticlassClassificationLoss(w).get_loss(p, y))
    assert got == pytest.approx(ref, rel=1e-5)
    s = 1 / (1 + np.exp(-z[:, :1].astype(np.float64)))
    b = (y[:, None] % 2).astype(np.float32)
    ref = float(torch.nn.BCELoss()(torch.from_numpy(s.astype(np.float32)), torch.from_numpy(b)))
    got = float(BinaryClassificationLoss().get_loss(s.astype(np.float32), b))
    assert got == pytest.approx(ref, rel=1e-5)
