"""``ComputeAverageDice``: per-case Dice of a prediction against a label, averaged."""

from __future__ import annotations

from typing import Any

import numpy as np

from clara_core import Metric, MetricList, TransformContext


def to_label_map(data: np.ndarray, channel_axis: int | None) -> np.ndarray:
    """Class indices from probabilities (argmax over channels) or a 1-channel map.

    >>> to_label_map(np.array([[0.2, 0.9], [0.8, 0.1]]), 0).tolist()
    [1, 0]
    """
    if channel_axis is None:
        return np.rint(data).astype(np.int64)
    if data.shape[channel_axis] == 1:
        squeezed = np.squeeze(data, axis=channel_axis)
        if np.issubdtype(squeezed.dtype, np.floating) and squeezed.max(initial=0) <= 1.0 \
                and not np.all(np.isin(squeezed, (0.0, 1.0))):
            return (squeezed > 0.5).astype(np.int64)  # a binary probability map
        return np.rint(squeezed).astype(np.int64)
    return np.argmax(data, axis=channel_axis)


def dice_per_class(pred: np.ndarray, label: np.ndarray, classes: list[int]) -> np.ndarray:
    """Dice of each class; NaN where the class is absent from both prediction and label.

    >>> dice_per_class(np.array([0, 1, 1, 2]), np.array([0, 1, 2, 2]), [1, 2]).tolist()
    [0.6666666666666666, 0.6666666666666666]
    """
    out = np.full(len(classes), np.nan)
    for i, c in enumerate(classes):
        p, t = pred == c, label == c
        denom = p.sum() + t.sum()
        if denom:
            out[i] = 2.0 * np.logical_and(p, t).sum() / denom
    return out


class ComputeAverageDice(Metric):
    """Mean over cases of the Dice between ``field`` (prediction) and ``label_field``.

    A multi-channel prediction is reduced with argmax over channels; classes are
    ``1 .. num_classes-1`` when ``remove_bg`` (default) and include 0 otherwise. A
    case's value is the mean over classes present in prediction or label;
    a case where none is present gets ``invalid_value``. Per-class means are kept
    in :attr:`class_means` after :meth:`get`.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> probs = np.stack([np.eye(2), 1 - np.eye(2)])  # class 1 off the diagonal
    >>> ctx.set_image("model", MedicalImage(probs, "CHW"))
    >>> ctx.set_image("label", MedicalImage(np.array([[[0, 1], [1, 0]]]), "CHW"))
    >>> m = ComputeAverageDice("mean_dice", "model", "label")
    >>> m.update(ctx); round(m.get(), 3)
    1.0
    """

    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 remove_bg: bool = True, num_classes: int | None = None,
                 invalid_value: float = float("nan"), report_path: str | None = None,
                 is_key_metric: bool = False, do_print: bool = True,
                 do_summary: bool = True) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        label_field=label_field, is_key_metric=is_key_metric,
                        do_print=do_print, do_summary=do_summary)
        self.remove_bg = remove_bg
        self.num_classes = num_classes
        self._per_class: list[np.ndarray] = []

    def compute(self, transform_ctx: TransformContext) -> float | None:
        pred_img = transform_ctx.get_image(self.field)
        label_img = transform_ctx.get_image(self.label_field or "label")
        pred = to_label_map(pred_img.get_data(), pred_img.get_shape_format().get_channel_axis())
        label = to_label_map(label_img.get_data(),
                             label_img.get_shape_format().get_channel_axis())
        if pred.shape != label.shape:
            raise ValueError(
                f"ComputeAverageDice {self.get_name()!r}: prediction {self.field!r} has spatial "
                f"shape {pred.shape} but label {self.label_field!r} has {label.shape} "
                f"({label_img.get_property('filename', 'no file name')})."
            )
        n = self.num_classes or int(max(pred.max(initial=0), label.max(initial=0))) + 1
        n = max(n, 2)
        classes = list(range(1 if self.remove_bg else 0, n))
        scores = dice_per_class(pred, label, classes)
        self._per_class.append(scores)
        valid = scores[~np.isnan(scores)]
        return float(valid.mean()) if valid.size else None

    @property
    def class_means(self) -> dict[int, float]:
        """Mean Dice per class over the cases seen since the last reset."""
        if not self._per_class:
            return {}
        width = max(len(s) for s in self._per_class)
        table = np.full((len(self._per_class), width), np.nan)
        for i, s in enumerate(self._per_class):
            table[i, : len(s)] = s
        first = 1 if self.remove_bg else 0
        with np.errstate(all="ignore"):
            means: Any = np.nanmean(table, axis=0)
        return {first + i: float(v) for i, v in enumerate(means) if not np.isnan(v)}

    def reset(self) -> None:
        Metric.reset(self)
        self._per_class = []
