"""``DataPipeline``: produces the batches a workflow trains or validates on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.graph_component import GraphComponent


@dataclass(frozen=True)
class DataProperty:
    """What the model needs to know about the data (the seed's ``data_property``)."""

    data_format: str = "channels_first"
    num_channels: int = 1
    num_label_channels: int = 1
    crop_shape: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, self.extra.get(key, default))


class DataPipeline(GraphComponent):
    """Base class of data pipelines (training and validation).

    A pipeline reads a datalist, runs a transform chain and yields batches as a
    ``tf.data.Dataset``; ``build`` records its :class:`DataProperty` in the context.
    """

    def get_data_property(self) -> DataProperty:
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement get_data_property."
        )

    def get_dataset(self) -> Any:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement get_dataset.")

    def get_dataset_size(self) -> int:
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement get_dataset_size."
        )

    def build(self, build_ctx: BuildContext) -> Any:
        build_ctx.setdefault(BuildContext.KEY_DATA_PROP, self.get_data_property())
        return self
