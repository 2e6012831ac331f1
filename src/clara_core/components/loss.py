"""``Loss``: the loss component (seed contract)."""

from __future__ import annotations

from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.graph_component import GraphComponent


class Loss(GraphComponent):
    """Base class of losses: ``get_loss(predictions, targets, build_ctx)`` returns a scalar.

    It runs inside the compiled train step on real tensors.
    """

    def __init__(self) -> None:
        pass

    def get_loss(self, predictions: Any, targets: Any, build_ctx: BuildContext | None = None) -> Any:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement get_loss.")

    def build(self, build_ctx: BuildContext) -> Any:
        return self.get_loss(
            build_ctx.must_get(BuildContext.KEY_PREDICTIONS),
            build_ctx.must_get(BuildContext.KEY_LABEL_INPUT),
            build_ctx,
        )
