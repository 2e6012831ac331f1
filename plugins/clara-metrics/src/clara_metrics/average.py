"""``ComputeAverage``: the mean of a scalar field over cases (the seed's SampleComputeAverage)."""

from __future__ import annotations

from clara_core import Metric, MetricList


class ComputeAverage(Metric):
    """Average of the value found in ``field`` for each case (e.g. an aux op's tag).

    >>> from clara_core import TransformContext
    >>> m = ComputeAverage("negloss", "negloss")
    >>> for v in (1.0, 3.0): m.update(TransformContext({"negloss": v}))
    >>> m.get()
    2.0
    """

    def __init__(self, name: str, field: str, invalid_value: float = float("nan"),
                 report_path: str | None = None, is_key_metric: bool = False,
                 do_print: bool = True, do_summary: bool = True) -> None:
        Metric.__init__(self, MetricList(name, invalid_value, report_path), field=field,
                        is_key_metric=is_key_metric, do_print=do_print, do_summary=do_summary)
