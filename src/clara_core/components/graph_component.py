"""``GraphComponent``: a component that takes part in building the training step."""

from __future__ import annotations

from typing import Any

from clara_core.components.base import Component
from clara_core.components.build_ctx import BuildContext


class GraphComponent(Component):
    """Base of components that the engine builds with a :class:`BuildContext`.

    In the TF1 SDK ``build`` added ops to a graph; here it is called once while the
    engine assembles the Keras model and the compiled train step.
    """

    def build(self, build_ctx: BuildContext) -> Any:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement build.")
