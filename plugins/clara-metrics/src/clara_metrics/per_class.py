"""``PerClassMetric``: a segmentation metric computed per class, then averaged.

Subclasses give ``score(pred_mask, label_mask, spacing)`` for one class of one
case; this base turns predictions (probabilities or label maps, any channel
layout) into label maps, picks the classes, reads the voxel spacing from the
label's image properties, keeps the per-class table and averages:

- a class absent from both prediction and label scores NaN and is left out;
- a case where no class has a score gets ``invalid_value`` (NaN by default) and
  is left out of the mean (the per-case report still lists it).

With ``is_one_hot_targets`` the label has one channel per class (one-hot, or
overlapping multi-label channels such as BraTS's TC/WT/ET) and each prediction
channel is read on its own, ``> logit_thresh`` (sigmoid outputs): no argmax; the
classes are the channels (channel 0 dropped when ``remove_bg``).

``class_names`` names the classes (by class number, or by channel with
``is_one_hot_targets``) in the per-class values' names: ``mean_dice_whole_tumor``
rather than ``mean_dice_class0``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core import Metric, MetricList, TransformContext


def to_label_map(data: np.ndarray, channel_axis: int | None,
                 threshold: float = 0.5) -> np.ndarray:
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
            return (squeezed > threshold).astype(np.int64)  # a binary probability map
        return np.rint(squeezed).astype(np.int64)
    return np.argmax(data, axis=channel_axis)


class PerClassMetric(Metric):
    """Base of per-class segmentation metrics; see the module docstring."""


    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 remove_bg: bool = True, num_classes: int | None = None,
                 invalid_value: float = float("nan"), report_path: str | None = None,
                 is_key_metric: bool = False, do_print: bool = True,
                 do_summary: bool = True, logit_thresh: float = 0.5,
                 is_one_hot_targets: bool = False,
                 class_names: Sequence[str] | None = None) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        label_field=label_field, is_key_metric=is_key_metric,
                        do_print=do_print, do_summary=do_summary)
        self.remove_bg, self.logit_thresh = remove_bg, logit_thresh
        self.num_classes, self.is_one_hot_targets = num_classes, is_one_hot_targets
        self.class_names = None if class_names is None else [str(n) for n in class_names]
        self._per_class: list[np.ndarray] = []

    def class_name(self, k: int) -> str:
        """``class_names[k]`` made a metric-name part (``whole tumor``: ``whole_tumor``),
        or ``class<k>``.

        >>> m = PerClassMetric("dice", class_names=["whole tumor", "core"])
        >>> m.class_name(0), m.class_name(2)
        ('whole_tumor', 'class2')
        """
        names = self.class_names or []
        name = re.sub(r"[^0-9A-Za-z]+", "_", names[k]).strip("_") if k < len(names) else ""
        return name or f"class{k}"

    def score(self, pred: np.ndarray, label: np.ndarray,
              spacing: Sequence[float]) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement score().")

    def compute(self, transform_ctx: TransformContext) -> float | None:
        pred_img = transform_ctx.get_image(self.field)
        label_img = transform_ctx.get_image(self.label_field or "label")
        if self.is_one_hot_targets:
            return self._compute_channels(pred_img, label_img)
        pred = to_label_map(pred_img.get_data(), pred_img.get_shape_format().get_channel_axis(),
                            self.logit_thresh)
        label_axis = label_img.get_shape_format().get_channel_axis()
        if label_axis is not None and label_img.get_data().shape[label_axis] > 1 and \
                (label_img.get_data().sum(axis=label_axis) > 1).any():
            raise ValueError(
                f"{type(self).__name__} {self.get_name()!r}: the label {self.label_field!r} has "
                "overlapping channels (multi-label, e.g. BraTS TC/WT/ET), which an argmax "
                "would merge: set is_one_hot_targets to true to score each channel.")
        label = to_label_map(label_img.get_data(), label_axis)
        if pred.shape != label.shape:
            raise ValueError(
                f"{type(self).__name__} {self.get_name()!r}: prediction {self.field!r} has "
                f"spatial shape {pred.shape} but label {self.label_field!r} has {label.shape} "
                f"({label_img.get_property('filename', 'no file name')}).")
        spacing = label_img.get_property("spacing", None)
        spacing = [1.0] * pred.ndim if spacing is None else [float(s) for s in spacing][
            :pred.ndim]
        n = self.num_classes or int(max(pred.max(initial=0), label.max(initial=0))) + 1
        classes = range(1 if self.remove_bg else 0, max(n, 2))
        return self._keep([self.score(pred == c, label == c, spacing) for c in classes])

    def _keep(self, per_class: list[float]) -> float | None:
        """Record one case's per-class scores; their mean over the defined ones."""
        scores = np.array(per_class, dtype=np.float64)
        self._per_class.append(scores)
        valid = scores[~np.isnan(scores)]
        return float(valid.mean()) if valid.size else None

    def _compute_channels(self, pred_img: Any, label_img: Any) -> float | None:
        """Per channel, no argmax: prediction ``> logit_thresh`` against label ``> 0.5``."""
        masks = []
        for what, img, threshold in (("prediction", pred_img, self.logit_thresh),
                                     ("label", label_img, 0.5)):
            axis = img.get_shape_format().get_channel_axis()
            if axis is None:
                raise ValueError(f"{type(self).__name__} {self.get_name()!r}: is_one_hot_targets "
                                 f"is true but the {what} has no channel axis "
                                 f"({img.get_shape_format()}); put ConvertToChannelsFirst "
                                 "before the metric.")
            masks.append(np.moveaxis(img.get_data(), axis, 0) > threshold)
        pred, label = masks
        if pred.shape != label.shape:
            raise ValueError(
                f"{type(self).__name__} {self.get_name()!r}: is_one_hot_targets is true and "
                f"prediction {self.field!r} is {pred.shape} (channels first) but label "
                f"{self.label_field!r} is {label.shape}: give the label one channel per "
                "predicted class (e.g. ConvertToMultiChannelBasedOnBratsClasses).")
        spacing = label_img.get_property("spacing", None)
        ndim = pred.ndim - 1
        spacing = [1.0] * ndim if spacing is None else [float(s) for s in spacing][:ndim]
        first = 1 if self.remove_bg and pred.shape[0] > 1 else 0
        return self._keep([self.score(pred[c], label[c], spacing)
                           for c in range(first, pred.shape[0])])

    def get_class_values(self) -> dict[int, float]:
        """Mean score per class over the cases seen since the last reset."""
        if not self._per_class:
            return {}
        width = max(len(s) for s in self._per_class)
        table = np.full((len(self._per_class), width), np.nan)
        for i, s in enumerate(self._per_class):
            table[i, : len(s)] = s
        first = 1 if self.remove_bg else 0
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                means: Any = np.nanmean(table, axis=0)
        return {first + i: float(v) for i, v in enumerate(means) if not np.isnan(v)}

    def reset(self) -> None:
        Metric.reset(self)
        self._per_class = []
