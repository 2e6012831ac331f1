"""``DataPipeline``: produces the batches a workflow trains or validates on."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.graph_component import GraphComponent
from clara_core.components.transform import Transformer
from clara_core.errors import ClaraError
from clara_core.image.transform_ctx import TransformContext


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

    Everything the engine calls on a pipeline is declared here. The engine first sets
    the pipeline up: :meth:`set_root` (the MMAR folder, for relative paths),
    :meth:`set_seed`, :meth:`set_transforms` (the section's ``pre_transforms``) and, for
    training, :meth:`set_batch_transforms`; then it calls :meth:`build`, which records
    the :class:`DataProperty` the model is built from. Training reads
    :meth:`get_dataset` (``(image, label)`` batches of one epoch, a ``tf.data.Dataset``)
    through :meth:`feed` on one device; validation iterates :meth:`cases`. At the end
    the engine prints :meth:`bad_case_report`.

    A subclass must implement :meth:`get_data_property`, :meth:`get_dataset_size` and
    :meth:`get_dataset` to train, and :meth:`cases` to validate; every other method
    has a working default.
    """

    #: the case fields that hold the model's input and its target
    image_field: str = "image"
    label_field: str = "label"
    #: samples per training batch
    output_batch_size: int = 1
    #: whether datalist items enter the ``pre_transforms`` as they are (file names, so
    #: the chain must load them); a pipeline that reads its files itself leaves False
    items_are_file_names: bool = False
    # what the engine sets up (class defaults: the seed's pipelines never call a base
    # __init__, so set-up state must not depend on one)
    _root: str | None = None
    _seed: int = 0
    _transforms: Sequence[Transformer] = ()
    _num_classes: int | None = None

    # -- set up by the engine ----------------------------------------------------

    def set_root(self, root: str) -> None:
        """Relative paths of this pipeline's arguments resolve against ``root``."""
        self._root = root

    def get_root(self) -> str:
        return self._root if self._root is not None else os.getcwd()

    def set_seed(self, seed: int) -> None:
        """The seed of every random choice (data order, augmentation)."""
        self._seed = int(seed)

    def get_seed(self) -> int:
        return self._seed

    def set_transforms(self, transforms: Sequence[Transformer]) -> None:
        """The transform chain each case goes through (the section's ``pre_transforms``)."""
        self._transforms = list(transforms)

    def get_transforms(self) -> list[Transformer]:
        return list(self._transforms)

    def set_batch_transforms(self, transforms: Sequence[Transformer]) -> None:
        """Transforms of whole batches (the ``batch_transforms`` section). A pipeline
        that applies them overrides this; the default refuses a non-empty list."""
        if transforms:
            raise ClaraError(
                f"{type(self).__name__} does not apply batch_transforms; remove the "
                "train.batch_transforms section or use a pipeline that applies them, such "
                "as SegmentationImagePipeline.")

    def set_num_classes(self, num_classes: int | None) -> None:
        """The model's class count (None: unknown); a pipeline that checks labels
        refuses values outside ``[0, num_classes)``."""
        self._num_classes = num_classes

    def get_num_classes(self) -> int | None:
        return self._num_classes

    def check_cases(self) -> None:
        """Read and check every case now, so a bad case stops the run before training
        rather than after an epoch (the engine calls it on the validation pipeline).
        The default checks nothing up front."""

    # -- what the engine reads ---------------------------------------------------

    def get_data_property(self) -> DataProperty:
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement get_data_property.")

    def get_dataset_size(self) -> int:
        """The number of cases."""
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement get_dataset_size.")

    def get_batch_size(self) -> int:
        """Samples per training batch (for throughput figures)."""
        return int(self.output_batch_size)

    def get_dataset(self, epoch: int = 0) -> Any:
        """The ``(image, label)`` batches of training epoch ``epoch`` as a
        ``tf.data.Dataset``, in the layout of :meth:`get_data_property`."""
        raise NotImplementedError(f"Class {type(self).__name__} does not implement get_dataset.")

    def feed(self, epoch: int) -> Iterator[tuple[Any, Any]]:
        """The batches of ``epoch`` as NumPy arrays: what one device trains on. The
        default iterates :meth:`get_dataset`; engines with a faster path override it."""
        yield from self.get_dataset(epoch).as_numpy_iterator()

    def set_shard(self, replicas: Sequence[int], num_replicas: int) -> bool:
        """Train only the global replicas ``replicas`` of ``num_replicas`` (this
        worker's, under a multi-device strategy). A pipeline that shards reads and
        caches only those replicas' cases, returns True and yields per-replica batches
        from :meth:`replica_feed`. The default returns False: the engine then splits
        :meth:`get_dataset`'s global batches, and every worker reads all the data."""
        return False

    def get_shard_size(self) -> int:
        """The cases this worker trains on: all of them unless :meth:`set_shard` split them."""
        return self.get_dataset_size()

    def replica_feed(self, epoch: int) -> Iterator[list[tuple[Any, Any]]]:
        """After :meth:`set_shard` returned True: one list per step with a ``(images,
        labels)`` batch of ``output_batch_size / num_replicas`` samples for each of this
        worker's replicas, in :meth:`set_shard`'s order; every worker yields the same
        number of steps."""
        raise NotImplementedError(f"Class {type(self).__name__} does not shard.")

    def cases(self) -> Iterator[TransformContext]:
        """Each case through the transform chain, whole (validation infers on these)."""
        raise NotImplementedError(
            f"Class {type(self).__name__} does not implement cases(), which validation "
            "iterates: yield one TransformContext per case with the image (and label) "
            "fields as MedicalImages.")

    def bad_case_report(self) -> list[str]:
        """One line per case that was skipped as bad (none by default)."""
        return []

    def build(self, build_ctx: BuildContext) -> Any:
        build_ctx.setdefault(BuildContext.KEY_DATA_PROP, self.get_data_property())
        return self
