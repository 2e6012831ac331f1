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

    What the engine reads about a model: :meth:`get_num_classes` (pipelines check
    label values against it), :meth:`get_data_format` and :meth:`with_data_format`
    (a ``channels_first`` model runs as its ``channels_last`` twin on CPUs). Their
    defaults read the constructor's ``num_classes`` and ``data_format`` arguments, so a
    model that takes those arguments declares them without writing anything.

    >>> class Net(Model):
    ...     def __init__(self, num_classes: int, data_format: str = "channels_first"):
    ...         self.num_classes, self.data_format = num_classes, data_format
    >>> net = Net(3)
    >>> net.get_num_classes(), net.get_data_format()
    (3, 'channels_first')
    >>> net.with_data_format("channels_last").get_config()
    {'num_classes': 3, 'data_format': 'channels_last'}
    >>> Model().get_num_classes(), Model().with_data_format("channels_last")
    (None, None)
    """

    def __init__(self) -> None:
        pass

    def get_num_classes(self) -> int | None:
        """The number of output channels (segmentation) or classes (classification), or
        None when the model does not say. Default: the constructor's ``num_classes``."""
        value = self.init_arg("num_classes")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def with_data_format(self, data_format: str) -> Model | None:
        """This model built for ``data_format`` (the same weights: Keras kernels do not
        depend on the layout), or None when it cannot be. Default: rebuilt from its
        config with that ``data_format`` when it has one; override it when the
        constructor is not the config."""
        current = self.get_data_format()
        if current is None:
            return None
        if current == data_format:
            return self
        try:
            return type(self).from_config({**self.get_config(), "data_format": data_format})
        except Exception:  # a constructor that is not its config: no twin
            return None

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
