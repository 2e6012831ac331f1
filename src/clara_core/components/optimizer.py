"""``Optimizer``: the component that makes a Keras optimizer."""

from __future__ import annotations

from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.graph_component import GraphComponent


class Optimizer(GraphComponent):
    """Base class of optimizers.

    ``get_optimizer(learning_rate)`` returns a ``keras.optimizers.Optimizer`` driven by
    the given learning rate (a float or the engine's learning-rate variable); the
    engine performs the minimisation step.
    """

    def __init__(self) -> None:
        pass

    def get_optimizer(self, learning_rate: Any) -> Any:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement get_optimizer.")

    def build(self, build_ctx: BuildContext) -> Any:
        return self.get_optimizer(build_ctx.must_get(BuildContext.KEY_LEARNING_RATE))
