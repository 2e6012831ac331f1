"""Metrics against MONAI (Dice, Hausdorff, surface distance, ROC AUC) and SimpleITK
(LabelOverlapMeasures, HausdorffDistance), on seeded random shapes with
anisotropic spacing, including empty and single-voxel objects.

Definitions that differ: MONAI's DiceMetric scores a class absent from both masks
as 1 (``ignore_empty=False``) or NaN (default, whenever the label is empty); we
score NaN when absent from both and leave it out of the mean, so cases are
compared where the class is present in at least one mask. SimpleITK's
Hausdorff filter measures from every object voxel, not only surface voxels; the
maximum is the same for the shapes below (no object inside a hole of the other).
"""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from clara_metrics.classification import ComputeAUC
from clara_metrics.dice import ComputeAverageDice, ComputeIoU
from clara_metrics.distance import ComputeHausdorffDistance, ComputeSurfaceDistance
from monai.metrics import (
    DiceMetric,
    ROCAUCMetric,
    compute_average_surface_distance,
    compute_hausdorff_distance,
)

from clara_core import MedicalImage, TransformContext

SPACINGS = [(1.0, 1.0, 1.0), (0.7, 1.3, 2.5)]


def blob(shape, rng, radius):
    """An ellipsoid with a random centre and a ragged border."""
    grid = np.indices(shape).astype(float)
    centre = rng.uniform(0.3, 0.7, size=3) * np.array(shape)
    r = np.sqrt((((grid.T - centre) / np.array(radius)) ** 2).sum(-1)).T
    return r + rng.normal(scale=0.08, size=shape) < 1.0


def cases(seed=0):
    rng = np.random.default_rng(seed)
    shape = (24, 20, 16)
    out = []
    for _ in range(4):
        label = np.zeros(shape, np.int64)
        pred = np.zeros(shape, np.int64)
        label[blob(shape, rng, (7, 6, 5))] = 1
        pred[blob(shape, rng, (7, 6, 5))] = 1
        label[blob(shape, rng, (3, 3, 2))] = 2
        pred[blob(shape, rng, (3, 4, 2))] = 2
        out.append((pred, label))
    single = np.zeros(shape, np.int64)
    single[5, 6, 7] = 1
    shifted = np.zeros(shape, np.int64)
    shifted[9, 6, 3] = 1
    out.append((shifted, single))  # single-voxel objects
    return out


def context(pred, label, spacing):
    ctx = TransformContext()
    ctx.set_image("model", MedicalImage(pred[None].astype(np.float32), "CDHW"))
    img = MedicalImage(label[None].astype(np.float32), "CDHW")
    img.set_property("spacing", list(spacing))
    ctx.set_image("label", img)
    return ctx


def onehot(a, n=3):
    return torch.from_numpy(np.moveaxis(np.eye(n)[a], -1, 0)[None].astype(np.float32))


def per_class(metric, pred, label, spacing):
    metric.reset()
    metric.update(context(pred, label, spacing))
    return metric._per_class[0]


def sitk_image(a, spacing):
    img = sitk.GetImageFromArray(a.astype(np.uint8))
    img.SetSpacing(list(reversed(spacing)))
    return img


@pytest.mark.parametrize("spacing", SPACINGS)
def test_dice_and_iou(spacing):
    dice_metric = DiceMetric(include_background=False, reduction="none", ignore_empty=False)
    for pred, label in cases():
        ours_dice = per_class(ComputeAverageDice("d", num_classes=3), pred, label, spacing)
        ours_iou = per_class(ComputeIoU("j", num_classes=3), pred, label, spacing)
        ref = dice_metric(onehot(pred), onehot(label))[0].numpy()
        present = [(pred == c).any() or (label == c).any() for c in (1, 2)]
        np.testing.assert_allclose(ours_dice[present], ref[present], rtol=1e-6)
        assert np.isnan(ours_dice[[not p for p in present]]).all()
        overlap = sitk.LabelOverlapMeasuresImageFilter()
        overlap.Execute(sitk_image(label, spacing), sitk_image(pred, spacing))
        for c in (1, 2):
            if (pred == c).any() and (label == c).any():
                assert ours_dice[c - 1] == pytest.approx(overlap.GetDiceCoefficient(c), rel=1e-6)
                assert ours_iou[c - 1] == pytest.approx(overlap.GetJaccardCoefficient(c),
                                                        rel=1e-6)


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("percentile", [95.0, 50.0, None])
def test_hausdorff(spacing, percentile):
    metric = ComputeHausdorffDistance("hd", percentile=percentile, num_classes=3)
    for pred, label in cases(1):
        ours = per_class(metric, pred, label, spacing)
        ref = compute_hausdorff_distance(onehot(pred), onehot(label), include_background=False,
                                         percentile=percentile, spacing=list(spacing))
        ref = ref[0].numpy()
        for c in (1, 2):
            if (pred == c).any() and (label == c).any():
                assert ours[c - 1] == pytest.approx(ref[c - 1], rel=1e-5)
                if percentile is None:
                    hd = sitk.HausdorffDistanceImageFilter()
                    hd.Execute(sitk_image(label == c, spacing), sitk_image(pred == c, spacing))
                    assert ours[c - 1] == pytest.approx(hd.GetHausdorffDistance(), rel=1e-5)
            else:
                assert np.isnan(ours[c - 1])


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("symmetric", [True, False])
def test_surface_distance(spacing, symmetric):
    metric = ComputeSurfaceDistance("asd", symmetric=symmetric, num_classes=3)
    for pred, label in cases(2):
        ours = per_class(metric, pred, label, spacing)
        ref = compute_average_surface_distance(onehot(pred), onehot(label),
                                               include_background=False, symmetric=symmetric,
                                               spacing=list(spacing))[0].numpy()
        for c in (1, 2):
            if (pred == c).any() and (label == c).any():
                assert ours[c - 1] == pytest.approx(ref[c - 1], rel=1e-5)


@pytest.mark.parametrize("classes", [2, 4])
def test_auc(classes):
    rng = np.random.default_rng(classes)
    labels = rng.integers(0, classes, size=40)
    logits = rng.normal(size=(40, classes)) + np.eye(classes)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    probs[3] = probs[4]  # a tie
    labels[3] = labels[4] = 1
    metric = ComputeAUC("auc")
    for p, y in zip(probs, labels, strict=True):
        metric.update(TransformContext({"model": p, "label": int(y)}))
    auc = ROCAUCMetric(average="macro")
    auc(torch.from_numpy(probs), torch.from_numpy(np.eye(classes)[labels]))
    assert metric.get() == pytest.approx(float(auc.aggregate()), rel=1e-6)
