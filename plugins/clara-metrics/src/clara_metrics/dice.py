"""``ComputeAverageDice`` and ``ComputeIoU``: overlap of prediction and label per class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_metrics.per_class import PerClassMetric, to_label_map

__all__ = ["ComputeAverageDice", "ComputeIoU", "to_label_map"]


def dice_per_class(pred: np.ndarray, label: np.ndarray, classes: list[int]) -> np.ndarray:
    """Dice of each class; NaN where the class is absent from both prediction and label.

    >>> dice_per_class(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), [1, 2]).tolist()
    [0.6666666666666666, 0.6666666666666666]
    """
    return np.array([ComputeAverageDice.overlap(pred == c, label == c, False) for c in classes])


class ComputeAverageDice(PerClassMetric):
    """Mean over cases of the Dice between ``field`` (prediction) and ``label_field``.

    A multi-channel prediction is reduced with argmax over channels (a one-channel
    probability map by ``logit_thresh``, 0.5), except with ``is_one_hot_targets``:
    then the label has one channel per class (e.g. BraTS's overlapping TC/WT/ET) and
    each prediction channel is thresholded by ``logit_thresh`` on its own (sigmoid
    outputs), the classes being the channels; otherwise classes are
    ``1 .. num_classes-1`` when ``remove_bg`` (default) and include 0 otherwise. A
    case's value is the mean over classes present in prediction or label;
    a case where none is present gets ``invalid_value``. Per-class means are kept
    from :meth:`get_class_values`. Equals MONAI's ``DiceMetric`` and SimpleITK's
    ``LabelOverlapMeasuresImageFilter.GetDiceCoefficient`` where both are defined.

    >>> from clara_core import MedicalImage, TransformContext
    >>> ctx = TransformContext()
    >>> probs = np.stack([np.eye(2), 1 - np.eye(2)])  # class 1 off the diagonal
    >>> ctx.set_image("model", MedicalImage(probs, "CHW"))
    >>> ctx.set_image("label", MedicalImage(np.array([[[0, 1], [1, 0]]]), "CHW"))
    >>> m = ComputeAverageDice("mean_dice", "model", "label")
    >>> m.update(ctx); round(m.get(), 3)
    1.0
    >>> sig = np.stack([np.eye(2) * 0.9, np.full((2, 2), 0.7)])  # 2 independent channels
    >>> ctx.set_image("model", MedicalImage(sig, "CHW"))
    >>> ctx.set_image("label", MedicalImage(np.stack([np.eye(2), np.eye(2)]), "CHW"))
    >>> m = ComputeAverageDice("dice", remove_bg=False, is_one_hot_targets=True)
    >>> m.update(ctx); m.get_class_values()
    {0: 1.0, 1: 0.6666666666666666}
    """

    jaccard = False
    no_effect_args = {"is_2d": "2D or 3D is read from the data"}

    @staticmethod
    def overlap(p: np.ndarray, t: np.ndarray, jaccard: bool) -> float:
        total = int(np.count_nonzero(p)) + int(np.count_nonzero(t))
        if total == 0:
            return float("nan")
        inter = int(np.count_nonzero(p & t))
        return inter / (total - inter) if jaccard else 2.0 * inter / total

    def score(self, pred: np.ndarray, label: np.ndarray, spacing: Sequence[float]) -> float:
        return self.overlap(pred, label, self.jaccard)


class ComputeIoU(ComputeAverageDice):
    """Mean over cases of the intersection over union (Jaccard index), per class as
    :class:`ComputeAverageDice` does; equals SimpleITK's ``GetJaccardCoefficient``."""

    jaccard = True
