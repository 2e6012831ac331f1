"""``ComputeAverage`` (the seed's SampleComputeAverage) and ``ComputeMulticlassAverage``."""

from __future__ import annotations

from typing import Any

import numpy as np

from clara_core import MedicalImage, Metric, MetricList, TransformContext


class ComputeAverage(Metric):
    """Average of the value found in ``field`` for each case (e.g. an aux op's tag).

    >>> m = ComputeAverage("negloss", "negloss")
    >>> for v in (1.0, 3.0): m.update(TransformContext({"negloss": v}))
    >>> m.get()
    2.0
    """

    def __init__(self, name: str, field: str, invalid_value: float = float("nan"),
                 report_path: str | None = None, is_key_metric: bool = False,
                 do_print: bool = True, do_summary: bool = True,
                 negate_value: bool = False) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        is_key_metric=is_key_metric, do_print=do_print, do_summary=do_summary)
        self.negate_value = negate_value  # average -value (a loss as a higher-is-better metric)

    def compute(self, transform_ctx: TransformContext) -> float | None:
        value = Metric.compute(self, transform_ctx)
        return -value if self.negate_value and value is not None else value


class ComputeMulticlassAverage(Metric):
    """Average over cases of one entry (``label_index``) of a per-class vector field,
    or of the vector's mean when ``label_index`` is null (e.g. an aux op's per-class
    Dice).

    >>> m = ComputeMulticlassAverage("dice_liver", "dice", label_index=1)
    >>> for v in ([0.9, 0.5], [0.7, 0.3]): m.update(TransformContext({"dice": v}))
    >>> round(m.get(), 4)
    0.4
    """

    no_effect_args = {"label_field": "the field holds the per-class values already",
                      "auc_average": "the per-class values are averaged as they are"}

    def __init__(self, name: str, field: str, label_index: int | None = None,
                 invalid_value: float = float("nan"), report_path: str | None = None,
                 is_key_metric: bool = False, do_print: bool = True,
                 do_summary: bool = True) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        is_key_metric=is_key_metric, do_print=do_print, do_summary=do_summary)
        self.label_index = label_index

    def compute(self, transform_ctx: TransformContext) -> float | None:
        value: Any = transform_ctx[self.field]
        data = np.asarray(value.get_data() if isinstance(value, MedicalImage) else value,
                          dtype=np.float64).reshape(-1)
        if self.label_index is None:
            return float(data.mean())
        if not 0 <= self.label_index < data.size:
            raise ValueError(f"{type(self).__name__} {self.get_name()!r}: label_index "
                             f"{self.label_index} is outside the {data.size} values of field "
                             f"{self.field!r}; give an index below {data.size}.")
        return float(data[self.label_index])
