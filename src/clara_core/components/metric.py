"""Validation metrics: the seed's ``MetricList`` (per-case values) and ``Metric``."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from clara_core.components.base import Component
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext


class MetricList:
    """Per-case values of one metric, kept in ``self._list`` (a NumPy array).

    Subclasses implement :meth:`get`; the base returns the mean of the valid values.

    >>> m = MetricList("dice")
    >>> m.add(0.5, "a"); m.add(float("nan"), "b"); m.add(1.0, "c")
    >>> m._list.size, m.get()
    (3, 0.75)
    """

    def __init__(
        self, name: str, invalid_value: float = float("nan"), report_path: str | None = None
    ) -> None:
        from clara_core.arguments import check_argument

        # the name is a file name of the reports (<name>_raw.csv) and a log key
        check_argument(type(self).__name__, "name", name, isinstance(name, str) and
                       name.strip() not in ("", ".", "..") and
                       not any(c in name for c in "/\\\0"),
                       "a metric name usable as a file name (no '/', '\\' or NUL)")
        self.name = name
        self.invalid_value = invalid_value
        self.report_path = report_path
        self._list: np.ndarray = np.zeros(0, dtype=np.float64)
        self._cases: list[str] = []

    def get_name(self) -> str:
        return self.name

    def add(self, value: float | None, case: str | None = None) -> None:
        """Record one case's value; None or NaN is recorded as ``invalid_value``."""
        v = self.invalid_value if value is None or math.isnan(float(value)) else float(value)
        self._list = np.append(self._list, v)
        self._cases.append(case if case is not None else str(len(self._cases)))

    def reset(self) -> None:
        self._list = np.zeros(0, dtype=np.float64)
        self._cases = []

    def __len__(self) -> int:
        """Values recorded since the last reset."""
        return int(self._list.size)

    def last(self) -> float:
        """The value recorded last (NaN before any)."""
        return float(self._list[-1]) if self._list.size else float("nan")

    def valid_values(self) -> np.ndarray:
        values = self._list[~np.isnan(self._list)]
        if not math.isnan(self.invalid_value):
            values = values[values != self.invalid_value]
        return values  # type: ignore[no-any-return]

    def get(self) -> float:
        values = self.valid_values()
        return float(np.mean(values)) if values.size else float("nan")

    def write_report(self, report_path: str | None = None) -> list[str]:
        """Write ``<name>_summary.txt`` and the per-case ``<name>_raw.csv``; return the paths."""
        folder = report_path or self.report_path
        if not folder:
            return []
        os.makedirs(folder, exist_ok=True)
        raw = os.path.join(folder, f"{self.name}_raw.csv")
        summary = os.path.join(folder, f"{self.name}_summary.txt")
        with open(raw, "w", encoding="utf-8") as f:
            f.write("case,value\n")
            for case, value in zip(self._cases, self._list.tolist(), strict=True):
                f.write(f"{case},{value}\n")
        with open(summary, "w", encoding="utf-8") as f:
            f.write(
                f"{self.name}: {self.get()}\ncases: {self._list.size}\n"
                f"invalid: {self._list.size - self.valid_values().size}\n"
            )
        return [summary, raw]


class Metric(Component):
    """A validation metric: computes one value per case from ``field`` (and ``label_field``).

    The base reads a scalar that an earlier step put in ``field`` (the seed's
    ``SampleComputeAverage``); subclasses override :meth:`compute`.
    """

    output_args = ("report_path",)

    #: False for metrics where lower is better (distances): the engine keeps the
    #: "best" checkpoint by this direction when the metric is the key metric.
    higher_is_better: bool = True

    #: the case field the metric reads (the prediction, or a value an earlier step
    #: put there) and the reference it compares with (None: no reference)
    field: str
    label_field: str | None = None

    def __init__(
        self,
        metric_list: MetricList,
        field: str,
        label_field: str | None = None,
        do_summary: bool = True,
        do_print: bool = True,
        is_key_metric: bool = False,
    ) -> None:
        self.metric_list = metric_list
        self.field = field
        self.label_field = label_field
        self.do_summary = do_summary
        self.do_print = do_print
        self._is_key_metric = is_key_metric

    def get_name(self) -> str:
        return self.metric_list.get_name()

    def is_key_metric(self) -> bool:
        return self._is_key_metric

    def compute(self, transform_ctx: TransformContext) -> float | None:
        value: Any = transform_ctx[self.field]
        data = value.get_data() if isinstance(value, MedicalImage) else value
        return float(np.mean(data))

    def update(self, transform_ctx: TransformContext, case: str | None = None) -> None:
        self.metric_list.add(self.compute(transform_ctx), case)

    def get(self) -> float:
        return self.metric_list.get()

    def reset(self) -> None:
        self.metric_list.reset()

    def get_class_values(self) -> dict[int, float]:
        """Per-class values since the last reset (``{class: value}``), logged beside the
        metric as ``<name>_<class_name(k)>``; empty for metrics without classes."""
        return {}

    def class_name(self, k: int) -> str:
        """The suffix of class ``k``'s value in the logs: ``class<k>`` unless the metric
        names its classes (``mean_dice_class1``, or ``mean_dice_whole_tumor``)."""
        return f"class{k}"

    def get_report_path(self) -> str | None:
        """The folder this metric's reports go to (its ``MetricList``'s ``report_path``)."""
        return self.metric_list.report_path

    def write_report(self, report_path: str | None = None) -> list[str]:
        return self.metric_list.write_report(report_path)
