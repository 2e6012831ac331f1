"""``GraphComponent``: a component that takes part in building the training step."""

from __future__ import annotations

from typing import Any

from clara_core.components.base import Component
from clara_core.components.build_ctx import BuildContext

DATA_FORMATS = ("channels_first", "channels_last")


class GraphComponent(Component):
    """Base of components that the engine builds with a :class:`BuildContext`.

    In the TF1 SDK ``build`` added ops to a graph; here it is called once while the
    engine assembles the Keras model and the compiled train step.
    """

    def build(self, build_ctx: BuildContext) -> Any:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement build.")

    def get_data_format(self) -> str | None:
        """The layout of the tensors this component takes or makes: ``"channels_first"``
        or ``"channels_last"``, or None when it has none (class scores, a scalar).

        The default is the constructor's ``data_format`` argument, so components written
        the SDK's way declare it by taking that argument; override it otherwise.

        >>> class Net(GraphComponent):
        ...     def __init__(self, data_format: str = "channels_last"):
        ...         pass
        >>> Net().get_data_format(), GraphComponent().get_data_format()
        ('channels_last', None)
        """
        value = self.init_arg("data_format")
        return value if value in DATA_FORMATS else None
