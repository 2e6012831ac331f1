import numpy as np
import pytest
from clara_metrics.average import ComputeAverage, ComputeMulticlassAverage
from clara_metrics.classification import ComputeAccuracy, ComputeAUC, ComputeConfusionMatrix
from clara_metrics.dice import ComputeAverageDice, ComputeIoU
from clara_metrics.distance import (
    ComputeHausdorffDistance,
    ComputeSurfaceDistance,
    directed_distances,
)
from clara_metrics.training import DiceMaskedOutput, NegLoss, TrainAccuracy, TrainDice

from clara_core import MedicalImage, TransformContext
from clara_core.testing import parametrize_with_checks


@parametrize_with_checks([
    ComputeAverageDice("mean_dice", is_key_metric=True), ComputeIoU("iou"),
    ComputeHausdorffDistance("hd95"), ComputeHausdorffDistance("hd", percentile=None),
    ComputeSurfaceDistance("asd"), ComputeAverage("negloss", "negloss"),
    ComputeMulticlassAverage("dice1", "negloss", label_index=None),
    TrainDice(data_format="channels_last"), TrainAccuracy(), NegLoss(tag="negloss"),
    DiceMaskedOutput(data_format="channels_last")])
def test_conformance(component, check):
    check(component)


def classification_cases(metric):
    return {"right": TransformContext({"model": [0.1, 0.9], "label": 1}),
            "wrong": TransformContext({"model": [0.7, 0.3], "label": 1}),
            "tie": TransformContext({"model": [0.5, 0.5], "label": 0})}


@parametrize_with_checks([ComputeAUC("auc"), ComputeAccuracy("acc"),
                          ComputeConfusionMatrix("cm", num_classes=2)],
                         sample=classification_cases)
def test_classification_conformance(component, check):
    check(component)


def case(pred, label):
    ctx = TransformContext()
    ctx.set_image("model", MedicalImage(pred, "CDHW"))
    ctx.set_image("label", MedicalImage(label, "CDHW"))
    return ctx


def test_dice_per_class_and_report(tmp_path):
    label = np.zeros((1, 4, 4, 4))
    label[0, :2] = 1
    label[0, 2:] = 2
    probs = np.moveaxis(np.eye(3)[label[0].astype(int)], -1, 0)  # perfect prediction
    m = ComputeAverageDice("mean_dice", report_path=str(tmp_path))
    m.update(case(probs, label), "perfect")
    wrong = probs[[0, 2, 1]]  # classes 1 and 2 swapped
    m.update(case(wrong, label), "swapped")
    assert m.get() == 0.5
    assert m.get_class_values() == {1: 0.5, 2: 0.5}
    summary, raw = m.write_report()
    assert open(raw).read().splitlines() == ["case,value", "perfect,1.0", "swapped,0.0"]
    assert "mean_dice: 0.5" in open(summary).read()


def test_empty_prediction_and_label_is_invalid():
    m = ComputeAverageDice("d", invalid_value=-1.0)
    m.update(case(np.zeros((2, 3, 3, 3)) + [[[[1.0]]], [[[0.0]]]], np.zeros((1, 3, 3, 3))))
    assert m.metric_list._list.tolist() == [-1.0]
    assert np.isnan(m.get())


def seg_case(pred, label, spacing=(1.0, 1.0, 1.0)):
    ctx = case(pred[None].astype(np.float32), label[None].astype(np.float32))
    ctx.get_image("label").set_property("spacing", list(spacing))
    return ctx


def test_all_empty_prediction_and_label_is_invalid_for_every_metric():
    empty = np.zeros((6, 6, 6))
    for metric in (ComputeAverageDice("d"), ComputeIoU("j"), ComputeHausdorffDistance("h"),
                   ComputeSurfaceDistance("s")):
        metric.update(seg_case(empty, empty), "empty")
        assert metric.metric_list._list.size == 1 and np.isnan(metric.metric_list._list[0])
        assert np.isnan(metric.get()), type(metric).__name__


def test_empty_prediction_scores_zero_dice_and_no_distance():
    label = np.zeros((6, 6, 6))
    label[2:4, 2:4, 2:4] = 1
    dice, hd = ComputeAverageDice("d"), ComputeHausdorffDistance("h")
    for m in (dice, hd):
        m.update(seg_case(np.zeros_like(label), label))
    assert dice.get() == 0.0
    assert np.isnan(hd.get())


def test_single_voxel_objects_distance_in_millimetres():
    a = np.zeros((8, 8, 8))
    b = np.zeros((8, 8, 8))
    a[2, 2, 2] = 1
    b[2, 2, 5] = 1  # three voxels apart along the last axis, 2.5 mm each
    hd = ComputeHausdorffDistance("h", percentile=None)
    asd = ComputeSurfaceDistance("s")
    for m in (hd, asd):
        m.update(seg_case(a, b, spacing=(1.0, 1.0, 2.5)))
    assert hd.get() == pytest.approx(7.5)
    assert asd.get() == pytest.approx(7.5)


def test_anisotropic_spacing_changes_the_distance_by_axis():
    a = np.zeros((10, 10, 10), bool)
    b = np.zeros((10, 10, 10), bool)
    a[2:5, 2:5, 2:5] = True
    b[2:5, 2:5, 2:5] = True
    b[5, 2:5, 2:5] = True  # one extra layer along axis 0
    d_ab, d_ba = directed_distances(a, b, [3.0, 1.0, 1.0])
    # b's new face is one 3 mm step from a's face; a's face centre, interior to b, is
    # 1 mm (one in-plane step) from b's surface
    assert d_ba.max() == pytest.approx(3.0) and d_ab.max() == pytest.approx(1.0)
    d_ab, d_ba = directed_distances(a, b, [0.5, 1.0, 1.0])
    assert d_ba.max() == pytest.approx(0.5)


def test_distance_metrics_are_lower_is_better():
    assert not ComputeHausdorffDistance.higher_is_better
    assert not ComputeSurfaceDistance.higher_is_better
    assert ComputeAverageDice.higher_is_better


def test_confusion_matrix_report(tmp_path):
    m = ComputeConfusionMatrix("cm", num_classes=3, report_path=str(tmp_path))
    for p, y in (([0.8, 0.1, 0.1], 0), ([0.1, 0.1, 0.8], 1), ([0.1, 0.2, 0.7], 2)):
        m.update(TransformContext({"model": p, "label": y}))
    m.write_report()
    rows = (tmp_path / "cm_confusion.csv").read_text().splitlines()
    assert rows[1:] == ["0,1,0,0", "1,0,0,1", "2,0,0,1"]
    assert m.get() == pytest.approx(2 / 3)


def test_multiclass_average_index_out_of_range_names_the_field():
    m = ComputeMulticlassAverage("x", "dice", label_index=3)
    with pytest.raises(ValueError, match="label_index 3 is outside the 2 values of field 'dice'"):
        m.update(TransformContext({"dice": [0.1, 0.2]}))
