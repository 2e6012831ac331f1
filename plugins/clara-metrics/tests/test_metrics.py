import numpy as np
from clara_metrics.average import ComputeAverage
from clara_metrics.dice import ComputeAverageDice

from clara_core import MedicalImage, TransformContext
from clara_core.testing import parametrize_with_checks


@parametrize_with_checks([ComputeAverageDice("mean_dice", is_key_metric=True),
                          ComputeAverage("negloss", "negloss")])
def test_conformance(component, check):
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
    assert m.class_means == {1: 0.5, 2: 0.5}
    summary, raw = m.write_report()
    assert open(raw).read().splitlines() == ["case,value", "perfect,1.0", "swapped,0.0"]
    assert "mean_dice: 0.5" in open(summary).read()


def test_empty_prediction_and_label_is_invalid():
    m = ComputeAverageDice("d", invalid_value=-1.0)
    m.update(case(np.zeros((2, 3, 3, 3)) + [[[[1.0]]], [[[0.0]]]], np.zeros((1, 3, 3, 3))))
    assert m.metric_list._list.tolist() == [-1.0]
    assert np.isnan(m.get())
