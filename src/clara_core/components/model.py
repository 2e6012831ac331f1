"""``Model``: the network component (seed contract)."""

from __future__ import annotations

from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.graph_component import GraphComponent


def main_output(outputs: Any) -> Any:
    """The main output of a model's outputs: a deep-supervision model returns a list
    whose first item is the prediction; the others are for the loss only.

    >>> main_output(["full", "half"]), main_output("single")
    ('full', 'single')
    """
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


class Model(GraphComponent):
    """Base class of models.

    ``get_predictions`` is called once on the symbolic ``model_input`` (a
    ``keras.Input``); the engine wraps inputs and returned tensor into a
    ``keras.Model``. ``get_loss`` is evaluated inside every train step and added to
    the loss component's value.
    """

    def __init__(self) -> None:
        pass

    def get_loss(self) -> Any:
        """An additional model-specific loss (0 by default)."""
        return 0

    def get_update_ops(self) -> list[Any]:
        """Kept for the seed's API: Keras applies batch-norm updates itself, so empty."""
        return []

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement get_predictions."
        )

    def build(self, build_ctx: BuildContext) -> Any:
        inputs = build_ctx.must_get(BuildContext.KEY_MODEL_INPUT)
        is_training = build_ctx.must_get(BuildContext.KEY_IS_TRAIN)
        return self.get_predictions(inputs, is_training, build_ctx)
