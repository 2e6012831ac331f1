"""``AuxOp``: an extra value computed in the train step and logged under a tag."""

from __future__ import annotations

from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.graph_component import GraphComponent


class AuxOp(GraphComponent):
    """Base of the SDK's ``aux_ops``: ``get_value(build_ctx)`` returns a scalar tensor.

    Its value is logged under ``tag`` and passed to validation metrics as a field of
    that name (the SDK's ``NegLoss`` with ``ComputeAverage``). An aux op with several
    values (one per class, say) overrides :meth:`output_tags` and :meth:`values`.
    """

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def get_value(self, build_ctx: BuildContext) -> Any:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement get_value.")

    def output_tags(self) -> list[str]:
        """The tags this aux op logs values under."""
        return [self.tag]

    def values(self, build_ctx: BuildContext) -> dict[str, Any]:
        """Each tag's scalar value on this batch."""
        return {self.tag: self.get_value(build_ctx)}

    def build(self, build_ctx: BuildContext) -> Any:
        return self.get_value(build_ctx)
