"""``ImagePipeline``: datalist -> transform chain -> batches, the engine under every
image pipeline.

It composes three parts that a pipeline of your own can reuse on their own:

- :class:`~clara_core.data.case_cache.CaseCache`: the deterministic prefix of the
  chain (loading, resampling, intensity scaling) runs once per case and is kept: in
  memory, in a smart cache of ``num_cache_objects`` cases that replaces
  ``replace_percent`` of them each epoch (the next ones load in the background), or
  on disk under ``cache_dir``;
- :class:`~clara_core.data.batcher.Batcher`: the random suffix (crops, flips) runs
  every epoch in ``num_workers`` threads, seeded per (epoch, case), so batches are
  the same for any worker count; crops that emit several samples per case
  (``NCDHW``) are split into samples, shuffled, laid out and stacked into batches;
- :class:`~clara_core.data.replica_feed.ReplicaFeed`: with several replicas
  (:mod:`~clara_core.data.shard`), each trains on its own cases.

Threads, not processes: NumPy, SciPy and zlib release the GIL in the heavy parts,
threads share the cache without copying it, and their crops need no pickling back
(``benchmarks/workers_threads_vs_processes.py`` measures the choice).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from clara_core.arguments import check_arguments, check_data_format
from clara_core.components.pipeline import DataPipeline, DataProperty
from clara_core.components.transform import Transformer
from clara_core.config.datalist import load_datalist
from clara_core.data.batcher import Batch, Batcher, Sample
from clara_core.data.cache import DiskStore, case_key, smart_window
from clara_core.data.case_cache import CaseCache
from clara_core.data.chain import (
    CaseError,
    check_case,
    check_label_values,
    run_transforms,
    split_chain,
)
from clara_core.data.prefetch import prefetched
from clara_core.data.replica_feed import ReplicaFeed
from clara_core.data.shard import Shard
from clara_core.errors import ClaraError
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

#: bounds of the engine's counts: beyond them a run starves memory or threads
MAX_WORKERS = 256
MAX_BATCH = 4096
MAX_PREFETCH = 64
MAX_DUPLICATES = 1000


class ImagePipeline(DataPipeline):
    """The engine; subclasses say how a case becomes a training sample (:meth:`label_of`)."""

    output_args = ("cache_dir",)
    items_are_file_names = True
    no_effect_args = {
        "output_crop_size": "samples have the shape the chain gives them (set the crop "
                            "transform's size)",
        "output_image_channels": "channels are read from the data",
        "output_label_channels": "channels are read from the data",
        "output_data_dims": "dimensions are read from the data",
        "output_image_dtype": "images are fed as float32 (mixed precision casts in the model)",
        "multiprocessing": "workers are threads sharing one cache (num_workers)",
        "repeat": "each epoch is one pass over the datalist",
    }

    def __init__(self, data_list_file_path: str, data_file_base_dir: str | None = None,
                 data_list_key: str = "training", output_batch_size: int = 1,
                 num_workers: int = 1, prefetch_size: int = 1,
                 output_data_format: str = "channels_first",
                 image_field: str = "image", label_field: str = "label",
                 shuffle: bool = True, cache: bool = True,
                 num_cache_objects: int | None = None, replace_percent: float = 0.0,
                 cache_dir: str | None = None, skip_bad_cases: bool = False,
                 duplicate_count: int = 1, batched_by_transforms: bool = False) -> None:
        owner = type(self).__name__
        check_data_format(owner, output_data_format, "output_data_format")
        check_arguments(owner, [
            ("output_batch_size", output_batch_size,
             int(not batched_by_transforms) <= output_batch_size <= MAX_BATCH,
             f"an integer in [1, {MAX_BATCH}] (0 with batched_by_transforms)"),
            ("num_workers", num_workers, 1 <= num_workers <= MAX_WORKERS,
             f"an integer in [1, {MAX_WORKERS}] (threads; about the number of CPU cores)"),
            ("prefetch_size", prefetch_size, 0 <= prefetch_size <= MAX_PREFETCH,
             f"an integer in [0, {MAX_PREFETCH}]"),
            ("num_cache_objects", num_cache_objects,
             num_cache_objects is None or num_cache_objects >= 1, "an integer >= 1 or null"),
            ("replace_percent", replace_percent, 0.0 <= replace_percent <= 1.0,
             "a fraction in [0, 1]"),
            ("duplicate_count", duplicate_count, 1 <= duplicate_count <= MAX_DUPLICATES,
             f"an integer in [1, {MAX_DUPLICATES}]"),
        ])
        self.data_list_file_path = data_list_file_path
        self.data_file_base_dir = data_file_base_dir
        self.data_list_key = data_list_key
        self.output_batch_size = output_batch_size
        self.num_workers = num_workers
        self.prefetch_size = prefetch_size
        self.output_data_format = output_data_format
        self.image_field, self.label_field = image_field, label_field
        self.shuffle = shuffle  # the training order; validation takes the datalist's
        self.cache = cache
        self.num_cache_objects, self.replace_percent = num_cache_objects, replace_percent
        self.cache_dir, self.skip_bad_cases = cache_dir, skip_bad_cases
        #: the SDK's duplicate_count: each datalist item is this many cases of an epoch
        self.duplicate_count = duplicate_count
        #: the SDK's batched_by_transforms: the transforms make the batch, a step takes
        #: the samples of one case (a crop's batch_size) and output_batch_size (0 in the
        #: SDK's form) is not read
        self.batched_by_transforms = batched_by_transforms
        self._batch_transforms: list[Transformer] = []
        self._items: list[dict[str, Any]] | None = None
        self._lock = threading.Lock()  # the first case's channel count
        self._parts_lock = threading.Lock()  # building the case cache and the batcher
        self._property: DataProperty | None = None
        self._case_cache: CaseCache | None = None
        self._batcher: Batcher | None = None
        #: skipped cases (``skip_bad_cases``), shared by the case cache and the batcher
        self.bad_cases: dict[int, str] = {}
        self._channels: tuple[int, str] | None = None
        self._shard: Shard | None = None
        self._samples_per_case: int | None = None

    # -- set up by the engine ------------------------------------------------------

    def set_transforms(self, transforms: Sequence[Transformer]) -> None:
        self._transforms = list(transforms)
        self._case_cache, self._batcher = None, None

    def set_batch_transforms(self, transforms: Sequence[Transformer]) -> None:
        """Transforms of whole batches (the config's ``batch_transforms``): they see the
        stacked image and label as ``N...`` MedicalImages."""
        self._batch_transforms = list(transforms)
        self._batcher = None

    def set_seed(self, seed: int) -> None:
        self._seed = int(seed)
        self._batcher = None

    def set_root(self, root: str) -> None:
        """Resolve relative datalist paths (and ``cache_dir``) against ``root`` (the MMAR)."""
        self._root = root
        self._items, self._case_cache = None, None

    # -- the parts -------------------------------------------------------------------

    @property
    def case_cache(self) -> CaseCache:
        """The :class:`CaseCache` of the chain's deterministic prefix (built on first use
        after the set-up calls, perhaps by several worker threads at once)."""
        cache = self._case_cache
        if cache is None:
            with self._parts_lock:
                if self._case_cache is None:
                    head, _ = split_chain(self._transforms)
                    store = DiskStore(os.path.join(self.get_root(), self.cache_dir)) \
                        if self.cache_dir else None
                    self._case_cache = CaseCache(
                        lambda i: self._load_case(head, i), memory=self.cache, store=store,
                        key=lambda i: case_key(self.items()[i], head),
                        skip_bad_cases=self.skip_bad_cases, bad_cases=self.bad_cases)
                cache = self._case_cache
        return cache

    @property
    def batcher(self) -> Batcher:
        """The :class:`Batcher` of the chain's random suffix, fed by :attr:`case_cache`."""
        batcher = self._batcher
        if batcher is None:
            _, tail = split_chain(self._transforms)
            batcher = Batcher(  # the cache of the moment: set_shard replaces it
                lambda i: self.case_cache.get(i), tail, seed=self._seed,
                num_workers=self.num_workers, batch_size=self.output_batch_size,
                data_format=self.output_data_format, image_field=self.image_field,
                label_field=self.label_field, shuffle=self.shuffle, label_of=self.label_of,
                batch_transforms=self._batch_transforms,
                bad_cases=self.bad_cases if self.skip_bad_cases else None,
                owner=type(self).__name__)
            with self._parts_lock:
                self._batcher = batcher = self._batcher or batcher
            if self._batch_counts_cases():  # the samples a case gives, read once
                batcher.batch_size = self.get_batch_size()
        return batcher

    # -- data ----------------------------------------------------------------------

    def items(self) -> list[dict[str, Any]]:
        if self._items is None:
            path = os.path.join(self.get_root(), self.data_list_file_path)
            base = os.path.join(self.get_root(), self.data_file_base_dir) \
                if self.data_file_base_dir else os.path.dirname(path)
            items = load_datalist(path, base, self.data_list_key)
            self._items = [item for item in items for _ in range(self.duplicate_count)]
        return self._items

    def get_dataset_size(self) -> int:
        return len(self.items())

    def _load_case(self, head: list[Transformer], index: int) -> TransformContext:
        """Case ``index`` through the deterministic prefix ``head``, checked."""
        ctx = run_transforms(head, TransformContext(self.items()[index]))
        check_case(ctx, self.image_field, self.label_field, head)
        check_label_values(ctx, self.label_field, self.get_num_classes())
        self._check_channels(ctx)
        return ctx

    def _check_channels(self, ctx: TransformContext) -> None:
        """Every case's image has the first case's channel count."""
        image = ctx.get(self.image_field)
        if not isinstance(image, MedicalImage):
            return
        axis = image.get_shape_format().get_channel_axis()
        if axis is None:
            return
        channels = int(image.get_data().shape[axis])
        with self._lock:
            first = self._channels = self._channels or (channels, str(
                image.get_property("filename", "the first case")))
        if channels != first[0]:
            raise CaseError(f"Case {image.get_property('filename', '?')}: the image has "
                            f"{channels} channel(s) but {first[1]} has {first[0]}; every "
                            "case must have the same channels (convert the odd one, or "
                            "select channels with a transform).")

    def check_cases(self) -> None:
        """The deterministic prefix of every case now, in ``num_workers`` threads:
        bad cases stop the run (or are listed, with ``skip_bad_cases``) before training."""
        self.case_cache.fill(range(len(self.items())), self.num_workers)

    def _window(self, epoch: int) -> list[int]:
        """The cases of ``epoch`` on all replicas: all, or the smart cache's window."""
        return smart_window(epoch, len(self.items()), self.num_cache_objects,
                            self.replace_percent)

    def epoch_cases(self, epoch: int) -> list[int]:
        """The cases ``epoch`` trains on here: the window, less other workers' shares."""
        window = self._window(epoch)
        return window if self._shard is None else [i for i in window if self._shard.owns(i)]

    def _smart_cache_turn(self, epoch: int) -> None:
        """Evict what neither this epoch nor the next uses, and load the next epoch's
        replacements in the background while this one trains."""
        if self.num_cache_objects is None or self.num_cache_objects >= len(self.items()):
            return
        self.case_cache.turn(self.epoch_cases(epoch), self.epoch_cases(epoch + 1))

    def cache_all(self) -> int:
        """Run the deterministic prefix of the first epoch's cases now, in ``num_workers``
        threads (otherwise the first epoch fills the cache as it goes); returns the count."""
        if not self.cache:
            return 0
        return self.case_cache.fill(self.epoch_cases(0), self.num_workers)

    def cases(self) -> Iterator[TransformContext]:
        """Each case through the whole chain in datalist order (validation uses this),
        random transforms seeded as in epoch 0."""
        cache, batcher = self.case_cache, self.batcher

        def run(i: int) -> TransformContext | None:
            ctx = cache.get(i)
            return None if ctx is None else batcher.transformed(ctx, 0, i)

        with ThreadPoolExecutor(self.num_workers) as pool:
            for ctx in pool.map(run, range(len(self.items()))):
                if ctx is not None:
                    yield ctx

    def label_of(self, ctx: TransformContext) -> Any:
        """The label field of a transformed case: an image with the image's axes (a
        label without the image's channel axis would reach the loss as channels)."""
        label, image = ctx.get_image(self.label_field), ctx.get(self.image_field)
        if isinstance(image, MedicalImage) and label.get_data().ndim != image.get_data().ndim:
            raise CaseError(f"Case {image.get_property('filename', '?')}: field "
                            f"{self.label_field!r} is {label.get_shape_format()} but "
                            f"{self.image_field!r} is {image.get_shape_format()}; a label has "
                            "the image's axes: give both fields to the transforms that add "
                            "or move axes (ConvertToChannelsFirst's fields).")
        return label

    # -- one device --------------------------------------------------------------------

    def case_samples(self, epoch: int, index: int) -> list[Sample]:
        """The training samples of one case in ``epoch`` (the unit of parallel work)."""
        return self.batcher.case_samples(epoch, index)

    def epoch_order(self, epoch: int) -> list[int]:
        """The cases of ``epoch`` in training order (shuffled from the seed and epoch)."""
        self._smart_cache_turn(epoch)
        return self.batcher.order(self.epoch_cases(epoch), epoch)

    def samples(self, epoch: int) -> Iterator[Sample]:
        """Training samples of one epoch: ``{"image": CDHW, "label": ...}`` arrays."""
        yield from self.batcher.samples(epoch, self.epoch_order(epoch))

    def batches(self, epoch: int) -> Iterator[Batch]:
        """Stacked (image, label) batches of ``epoch``: see :meth:`Batcher.batches`."""
        yield from self.batcher.batches(epoch, self.epoch_order(epoch))

    def feed(self, epoch: int) -> Iterator[Batch]:
        """The batches of ``epoch``, prepared ``prefetch_size`` batches ahead in a
        background thread: what the engine trains on with one device (several
        devices take :meth:`get_dataset`)."""
        return prefetched(self.batches(epoch), self.prefetch_size)

    # -- several replicas ------------------------------------------------------------

    def set_shard(self, replicas: Sequence[int], num_replicas: int) -> bool:
        """Train replicas ``replicas`` of ``num_replicas``: see :mod:`clara_core.data.shard`."""
        shard = Shard(tuple(int(r) for r in replicas), int(num_replicas))
        shard.per_replica_batch(self.output_batch_size)  # refuse an uneven split now
        self._shard = shard
        self._case_cache, self._property, self._samples_per_case = None, None, None
        return True

    def get_shard_size(self) -> int:
        return len(self.epoch_cases(0))

    def samples_per_case(self) -> int:
        """Training samples one case gives (``num_samples`` of a batching crop, else 1)."""
        if self._samples_per_case is None:
            first = next((i for i in self.epoch_cases(0) if self.case_samples(0, i)), None)
            if first is None:
                raise ClaraError("No training case gives a sample: every case was skipped "
                                 "as bad (see the warnings above).")
            self._samples_per_case = len(self.case_samples(0, first))
        return self._samples_per_case

    def get_batch_size(self) -> int:
        """Samples a training step takes, as the SDK batched: the samples of one case
        with ``batched_by_transforms``; ``output_batch_size`` cases with all their
        samples when a batch transform merges them (``MergeBatchDims``: ``B x N``);
        else ``output_batch_size`` samples."""
        if self.batched_by_transforms:
            return self.samples_per_case()
        if self._batch_counts_cases():
            return self.output_batch_size * self.samples_per_case()
        return self.output_batch_size

    def batch_note(self) -> str | None:
        """What a training step takes, where the SDK's batching forms set it."""
        if not self._batch_counts_cases():
            return None
        return f"{self.get_batch_size()} samples a step (all the samples of " + (
            "one case: batched_by_transforms)" if self.batched_by_transforms else
            f"{self.output_batch_size} cases: MergeBatchDims)")

    def _batch_counts_cases(self) -> bool:
        """Whether a step's size follows from the samples a case gives (the SDK's forms)."""
        return self.batched_by_transforms or any(
            getattr(t, "merges_case_samples", False) for t in self._batch_transforms)

    def replica_feed(self, epoch: int) -> Iterator[list[Batch]]:
        """The steps of ``epoch`` for this worker's replicas: see :class:`ReplicaFeed`."""
        if self._shard is None:
            raise ClaraError(f"{type(self).__name__}.replica_feed needs set_shard first.")
        self._smart_cache_turn(epoch)
        feed = ReplicaFeed(self._shard, self.batcher, self.prefetch_size)
        return feed.epoch(epoch, self._window(epoch), self.samples_per_case())

    # -- what the engine reads -----------------------------------------------------------

    def bad_case_report(self) -> list[str]:
        """One line per skipped case (the engine prints them at the end of the run)."""
        return [f"case {i}: {msg}" for i, msg in sorted(self.bad_cases.items())]

    def get_data_property(self) -> DataProperty:
        if self._property is None:
            first = next(self.samples(0))
            image, label = first[self.image_field], first[self.label_field]
            ch = 0 if self.output_data_format == "channels_first" else -1
            spatial = image.shape[1:] if ch == 0 else image.shape[:-1]
            label_channels = label.shape[ch] if label.ndim > 1 else label.shape[0]
            self._property = DataProperty(
                self.output_data_format, int(image.shape[ch]), int(label_channels),
                tuple(int(s) for s in spatial),
                extra={"sample_shapes": (image.shape, label.shape)})
        return self._property

    def get_dataset(self, epoch: int = 0) -> Any:
        """The batches of ``epoch`` as a prefetched ``tf.data.Dataset``."""
        import tensorflow as tf

        shapes = self.get_data_property().extra["sample_shapes"]
        signature = tuple(tf.TensorSpec((self.get_batch_size(), *s), tf.float32)
                          for s in shapes)
        ds = tf.data.Dataset.from_generator(lambda: self.batches(epoch),
                                            output_signature=signature)
        return ds.prefetch(self.prefetch_size) if self.prefetch_size else ds


__all__ = ["ImagePipeline"]
