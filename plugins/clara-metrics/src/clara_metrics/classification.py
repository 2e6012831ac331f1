"""Classification metrics: ``ComputeAUC``, ``ComputeAccuracy``, ``ComputeConfusionMatrix``.

The prediction ``field`` of a case holds class probabilities (``(C,)``, or one
sigmoid probability ``(1,)`` / scalar for a binary task); ``label_field`` the
class index (or a one-hot vector).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core import MedicalImage, Metric, MetricList, TransformContext
from clara_core.arguments import check_arguments
from clara_core.data.classification import is_multi_label


def _values(ctx: TransformContext, field: str) -> np.ndarray:
    value: Any = ctx[field]
    data = value.get_data() if isinstance(value, MedicalImage) else value
    return np.asarray(data, dtype=np.float64).reshape(-1)


def _class_index(label: np.ndarray) -> int:
    return int(np.argmax(label)) if label.size > 1 else int(round(float(label[0])))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of binary ``labels`` by ``scores`` (ties count half).

    >>> roc_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    0.75
    """
    pos, neg = labels == 1, labels == 0
    if not pos.any() or not neg.any():
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties (Mann-Whitney U)
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    n_pos, n_neg = int(pos.sum()), int(neg.sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


#: how ComputeAUC averages the one-vs-rest AUCs of several classes
AUC_AVERAGES = ("macro", "weighted", "micro")


class ScoreList(MetricList):
    """Keeps each case's probability vector and class; ``get`` is the AUC over all cases."""

    def __init__(self, name: str, invalid_value: float = float("nan"),
                 report_path: str | None = None, average: str = "macro",
                 classes: Sequence[int] | None = None) -> None:
        MetricList.__init__(self, name=name, invalid_value=invalid_value, report_path=report_path)
        self.scores: list[np.ndarray] = []
        self.labels: list[int] = []
        self.average, self.classes = average, classes

    def reset(self) -> None:
        MetricList.reset(self)
        self.scores, self.labels = [], []

    def get(self) -> float:
        if not self.scores:
            return float("nan")
        scores, labels = np.stack(self.scores), np.array(self.labels)
        if scores.shape[1] == 1:
            return roc_auc(scores[:, 0], labels)
        classes = list(self.classes) if self.classes is not None else range(scores.shape[1])
        truth = np.eye(scores.shape[1], dtype=int)[labels]
        if self.average == "micro":  # every (case, class) pair pooled
            return roc_auc(scores[:, classes].reshape(-1), truth[:, classes].reshape(-1))
        aucs = np.array([roc_auc(scores[:, c], truth[:, c]) for c in classes])
        valid = ~np.isnan(aucs)
        if not valid.any():
            return float("nan")
        weights = truth[:, classes].sum(axis=0)[valid] if self.average == "weighted" else None
        return float(np.average(aucs[valid], weights=weights))


class ComputeAUC(Metric):
    """ROC AUC over the validation cases; for several classes the one-vs-rest AUCs
    averaged as ``auc_average`` says: ``macro`` (their mean, MONAI's
    ``ROCAUCMetric(average="macro")``), ``weighted`` (by each class's case count) or
    ``micro`` (every case-class pair pooled). ``class_index`` takes one class's AUC,
    ``include_list`` averages only those classes. The per-case report lists each
    case's probability of its true class.

    >>> m = ComputeAUC("auc")
    >>> for p, y in ((0.1, 0), (0.4, 0), (0.35, 1), (0.8, 1)):
    ...     m.update(TransformContext({"model": p, "label": y}))
    >>> m.get()
    0.75
    """

    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 invalid_value: float = float("nan"), report_path: str | None = None,
                 is_key_metric: bool = False, do_print: bool = True,
                 do_summary: bool = True, auc_average: str = "macro",
                 class_index: int | None = None,
                 include_list: Sequence[int] | None = None) -> None:
        check_arguments(type(self).__name__, [
            ("auc_average", auc_average, auc_average in AUC_AVERAGES, f"one of {AUC_AVERAGES}"),
            ("class_index", class_index, class_index is None or class_index >= 0,
             "a class index >= 0 or null"),
        ])
        classes = [class_index] if class_index is not None else include_list
        Metric.__init__(self, ScoreList(name, invalid_value, report_path, auc_average, classes),
                        field=field,
                        label_field=label_field, is_key_metric=is_key_metric,
                        do_print=do_print, do_summary=do_summary)

    def update(self, transform_ctx: TransformContext, case: str | None = None) -> None:
        scores = _values(transform_ctx, self.field)
        label = _class_index(_values(transform_ctx, self.label_field or "label"))
        store: Any = self.metric_list
        store.scores.append(scores)
        store.labels.append(label)
        own = scores[0] if scores.size == 1 and label == 1 else (
            1 - scores[0] if scores.size == 1 else scores[label])
        store.add(float(own), case)


class ComputeAccuracy(Metric):
    """Fraction of cases whose predicted class (argmax, or p > 0.5 for one probability)
    is the label. Multi-label outputs (one sigmoid per label: scores that do not sum to
    1, against a label of as many values) count the fraction of labels whose score
    ``> 0.5`` matches.

    >>> m = ComputeAccuracy("acc")
    >>> for p, y in (([0.2, 0.8], 1), ([0.6, 0.4], 1)):
    ...     m.update(TransformContext({"model": p, "label": y}))
    >>> m.get()
    0.5
    >>> m = ComputeAccuracy("acc")
    >>> m.update(TransformContext({"model": [0.9, 0.7, 0.1], "label": [1, 0, 0]}))
    >>> round(m.get(), 4)
    0.6667
    """

    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 invalid_value: float = float("nan"), report_path: str | None = None,
                 is_key_metric: bool = False, do_print: bool = True,
                 do_summary: bool = True) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        label_field=label_field, is_key_metric=is_key_metric,
                        do_print=do_print, do_summary=do_summary)

    @staticmethod
    def predicted(scores: np.ndarray) -> int:
        return int(scores[0] > 0.5) if scores.size == 1 else int(np.argmax(scores))

    def compute(self, transform_ctx: TransformContext) -> float | None:
        scores = _values(transform_ctx, self.field)
        labels = _values(transform_ctx, self.label_field or "label")
        if labels.size == scores.size and is_multi_label(scores):
            return float(np.mean((scores > 0.5) == (labels > 0.5)))
        return float(self.predicted(scores) == _class_index(labels))


class ConfusionList(MetricList):
    def __init__(self, name: str, num_classes: int, invalid_value: float = float("nan"),
                 report_path: str | None = None) -> None:
        MetricList.__init__(self, name=name, invalid_value=invalid_value, report_path=report_path)
        self.matrix = np.zeros((num_classes, num_classes), np.int64)

    def reset(self) -> None:
        MetricList.reset(self)
        self.matrix[:] = 0

    def get(self) -> float:
        """Balanced accuracy: the mean over classes with cases of their recall."""
        totals = self.matrix.sum(axis=1)
        seen = totals > 0
        if not seen.any():
            return float("nan")
        return float(np.mean(np.diag(self.matrix)[seen] / totals[seen]))

    def write_report(self, report_path: str | None = None) -> list[str]:
        paths = MetricList.write_report(self, report_path)
        folder = report_path or self.report_path
        if folder:
            path = os.path.join(folder, f"{self.name}_confusion.csv")
            n = self.matrix.shape[0]
            with open(path, "w", encoding="utf-8") as f:
                f.write("label\\predicted," + ",".join(str(c) for c in range(n)) + "\n")
                for c in range(n):
                    f.write(f"{c}," + ",".join(str(v) for v in self.matrix[c]) + "\n")
            paths.append(path)
        return paths


class ComputeConfusionMatrix(Metric):
    """Confusion matrix of the validation cases, written to ``<name>_confusion.csv``
    (rows: label, columns: predicted); its value is the balanced accuracy.

    >>> m = ComputeConfusionMatrix("cm", num_classes=2)
    >>> for p, y in (([0.2, 0.8], 1), ([0.6, 0.4], 1), ([0.9, 0.1], 0)):
    ...     m.update(TransformContext({"model": p, "label": y}))
    >>> m.metric_list.matrix.tolist(), m.get()
    ([[1, 0], [1, 1]], 0.75)
    """

    def __init__(self, name: str, num_classes: int, field: str = "model",
                 label_field: str = "label", invalid_value: float = float("nan"),
                 report_path: str | None = None, is_key_metric: bool = False,
                 do_print: bool = True, do_summary: bool = True) -> None:
        Metric.__init__(self, ConfusionList(name, num_classes, invalid_value, report_path),
                        field=field, label_field=label_field, is_key_metric=is_key_metric,
                        do_print=do_print, do_summary=do_summary)
        self.num_classes = num_classes

    def update(self, transform_ctx: TransformContext, case: str | None = None) -> None:
        predicted = ComputeAccuracy.predicted(_values(transform_ctx, self.field))
        label = _class_index(_values(transform_ctx, self.label_field or "label"))
        store: Any = self.metric_list
        store.matrix[label, predicted] += 1
        store.add(float(predicted == label), case)
