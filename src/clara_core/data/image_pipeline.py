"""``ImagePipeline``: datalist -> transform chain -> batches, the engine under every
image pipeline.

The deterministic prefix of the chain (loading, resampling, intensity scaling) runs
once per case and is kept: in memory, in a smart cache of ``num_cache_objects``
cases that replaces ``replace_percent`` of them each epoch, or on disk under
``cache_dir``. The random suffix (crops, flips) runs every epoch in
``num_workers`` threads, seeded per (epoch, case), so batches are the same for any
worker count. Threads, not processes: NumPy, SciPy and zlib release the GIL in the
heavy parts, threads share the cache without copying it, and their crops need no
pickling back (``benchmarks/workers_threads_vs_processes.py`` measures the choice). Crops that emit
several samples per case (``NCDHW``) are split into samples.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from clara_core.arguments import check_arguments, check_data_format
from clara_core.components.pipeline import DataPipeline, DataProperty
from clara_core.components.transform import Transformer
from clara_core.config.datalist import load_datalist
from clara_core.data.cache import DiskStore, case_key, smart_window
from clara_core.data.chain import (
    CaseError,
    SeededSuffix,
    check_case,
    check_label_values,
    run_transforms,
    split_chain,
    unbatch_samples,
)
from clara_core.data.prefetch import ordered_map, prefetched
from clara_core.data.shard import Shard
from clara_core.errors import ClaraError
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

log = logging.getLogger("clara")

#: bounds of the engine's counts: beyond them a run starves memory or threads
MAX_WORKERS = 256
MAX_BATCH = 4096
MAX_PREFETCH = 64


class ImagePipeline(DataPipeline):
    """The engine; subclasses say how a case becomes a training sample (:meth:`label_of`)."""

    output_args = ("cache_dir",)
    no_effect_args = {
        "output_image_channels": "channels are read from the data",
        "output_label_channels": "channels are read from the data",
        "output_data_dims": "dimensions are read from the data",
        "output_image_dtype": "images are fed as float32 (mixed precision casts in the model)",
        "multiprocessing": "workers are threads sharing one cache (num_workers)",
        "repeat": "each epoch is one pass over the datalist",
    }

    def __init__(self, data_list_file_path: str, data_file_base_dir: str | None = None,
                 data_list_key: str = "training",
                 output_crop_size: Sequence[int] | None = None, output_batch_size: int = 1,
                 batched_by_transforms: bool = False, num_workers: int = 1,
                 prefetch_size: int = 1, output_data_format: str = "channels_first",
                 image_field: str = "image", label_field: str = "label",
                 shuffle: bool = True, cache: bool = True,
                 num_cache_objects: int | None = None, replace_percent: float = 0.0,
                 cache_dir: str | None = None, skip_bad_cases: bool = False) -> None:
        owner = type(self).__name__
        check_data_format(owner, output_data_format, "output_data_format")
        check_arguments(owner, [
            ("output_batch_size", output_batch_size, 1 <= output_batch_size <= MAX_BATCH,
             f"an integer in [1, {MAX_BATCH}]"),
            ("num_workers", num_workers, 1 <= num_workers <= MAX_WORKERS,
             f"an integer in [1, {MAX_WORKERS}] (threads; about the number of CPU cores)"),
            ("prefetch_size", prefetch_size, 0 <= prefetch_size <= MAX_PREFETCH,
             f"an integer in [0, {MAX_PREFETCH}]"),
            ("num_cache_objects", num_cache_objects,
             num_cache_objects is None or num_cache_objects >= 1, "an integer >= 1 or null"),
            ("replace_percent", replace_percent, 0.0 <= replace_percent <= 1.0,
             "a fraction in [0, 1]"),
        ])
        self.data_list_file_path = data_list_file_path
        self.data_file_base_dir = data_file_base_dir
        self.data_list_key = data_list_key
        self.output_crop_size = list(output_crop_size) if output_crop_size else None
        self.output_batch_size = output_batch_size
        self.batched_by_transforms = batched_by_transforms
        self.num_workers = num_workers
        self.prefetch_size = prefetch_size
        self.output_data_format = output_data_format
        self.image_field, self.label_field = image_field, label_field
        self.shuffle = shuffle  # the training order; validation takes the datalist's
        self.cache = cache
        self.num_cache_objects, self.replace_percent = num_cache_objects, replace_percent
        self.cache_dir, self.skip_bad_cases = cache_dir, skip_bad_cases
        self._transforms: list[Transformer] = []
        self._batch_transforms: list[Transformer] = []
        self._seed = 0
        self._root = os.getcwd()
        self._items: list[dict[str, Any]] | None = None
        self._cached: dict[int, TransformContext] = {}
        self._lock = threading.Lock()
        self._property: DataProperty | None = None
        self._suffix_pool: queue.SimpleQueue[SeededSuffix] | None = None
        self._store: DiskStore | None = None
        self._loader: threading.Thread | None = None
        self.bad_cases: dict[int, str] = {}
        self._channels: tuple[int, str] | None = None
        self._shard: Shard | None = None
        self._samples_per_case: int | None = None

    # -- set up by the engine ------------------------------------------------------

    def set_transforms(self, transforms: Sequence[Transformer]) -> None:
        self._transforms = list(transforms)
        self._cached = {}
        self._suffix_pool = None

    def set_batch_transforms(self, transforms: Sequence[Transformer]) -> None:
        """Transforms of whole batches (the config's ``batch_transforms``): they see the
        stacked image and label as ``N...`` MedicalImages."""
        self._batch_transforms = list(transforms)

    def set_seed(self, seed: int) -> None:
        self._seed = int(seed)
        self._suffix_pool = None

    def set_root(self, root: str) -> None:
        """Resolve relative datalist paths (and ``cache_dir``) against ``root`` (the MMAR)."""
        self._root = root
        self._items = None
        self._store = None

    # -- data ----------------------------------------------------------------------

    def items(self) -> list[dict[str, Any]]:
        if self._items is None:
            path = os.path.join(self._root, self.data_list_file_path)
            base = os.path.join(self._root, self.data_file_base_dir) \
                if self.data_file_base_dir else os.path.dirname(path)
            self._items = load_datalist(path, base, self.data_list_key)
        return self._items

    def get_dataset_size(self) -> int:
        return len(self.items())

    def _disk(self) -> DiskStore | None:
        if self.cache_dir and self._store is None:
            self._store = DiskStore(os.path.join(self._root, self.cache_dir))
        return self._store

    def _prefix(self, index: int) -> TransformContext | None:
        """The case's deterministic prefix output (a copy of the context: shared arrays),
        or None for a bad case being skipped."""
        cached = self._cached.get(index)
        if cached is not None:
            return cached.copy()
        if index in self.bad_cases:
            return None
        head, _ = split_chain(self._transforms)
        item = self.items()[index]
        store = self._disk()
        key = case_key(item, head) if store else ""
        ctx = store.load(key) if store else None
        if ctx is None:
            try:
                ctx = run_transforms(head, TransformContext(item))
                check_case(ctx, self.image_field, self.label_field, head)
                check_label_values(ctx, self.label_field, self.get_num_classes())
                self._check_channels(ctx)
            except CaseError as exc:
                if not self.skip_bad_cases:
                    raise CaseError(f"{exc}\nTo skip such cases (and list them at the end), "
                                    'set "skip_bad_cases": true in the image_pipeline\'s '
                                    "args.") from exc
                log.warning("skipping bad case %d: %s", index, exc)
                self.bad_cases[index] = str(exc)
                return None
            if store:
                store.save(key, ctx)
                ctx = store.load(key)
        assert ctx is not None
        if not self.cache:
            return ctx
        for field, value in list(ctx.items()):
            data = value.get_data() if isinstance(value, MedicalImage) else None
            if isinstance(data, np.ndarray):
                if not data.flags.c_contiguous:  # e.g. a transposed NIfTI: crops of a
                    data = np.ascontiguousarray(data)  # C-ordered array copy faster
                    ctx.set_image(field, value.new_image(data, value.get_shape_format()))
                data.setflags(write=False)  # random transforms get views: guard it
        with self._lock:
            self._cached[index] = ctx
        return ctx.copy()

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
        with ThreadPoolExecutor(self.num_workers) as pool:
            list(pool.map(self._prefix, range(len(self.items()))))

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
        if self._loader is not None:
            self._loader.join()
        now, upcoming = set(self.epoch_cases(epoch)), set(self.epoch_cases(epoch + 1))
        with self._lock:
            for index in [i for i in self._cached if i not in now | upcoming]:
                del self._cached[index]
        incoming = sorted(upcoming - now)

        def load() -> None:
            for i in incoming:
                try:
                    self._prefix(i)
                except Exception:  # raised again, with its message, when the case is used
                    return

        self._loader = threading.Thread(target=load, daemon=True, name="clara-smart-cache")
        self._loader.start()

    def cache_all(self) -> int:
        """Run the deterministic prefix of the first epoch's cases now, in ``num_workers``
        threads (otherwise the first epoch fills the cache as it goes); returns the count."""
        if not self.cache:
            return 0
        with ThreadPoolExecutor(self.num_workers) as pool:
            list(pool.map(self._prefix, self.epoch_cases(0)))
        return len(self._cached)

    def cases(self) -> Iterator[TransformContext]:
        """Each case through the whole chain in datalist order (validation uses this)."""
        _, tail = split_chain(self._transforms)
        suffix = SeededSuffix(tail, self._seed)

        def run(i: int) -> TransformContext | None:
            ctx = self._prefix(i)
            return None if ctx is None else suffix(ctx, 0, i)

        with ThreadPoolExecutor(self.num_workers) as pool:
            for ctx in pool.map(run, range(len(self.items()))):
                if ctx is not None:
                    yield ctx

    def _suffixes(self) -> queue.SimpleQueue[SeededSuffix]:
        """``num_workers`` copies of the random suffix, kept across epochs (transforms
        may keep per-case state, such as the crop's foreground indices)."""
        if self._suffix_pool is None:
            _, tail = split_chain(self._transforms)
            self._suffix_pool = queue.SimpleQueue()
            for _ in range(self.num_workers):
                self._suffix_pool.put(SeededSuffix(tail, self._seed))
        return self._suffix_pool

    def label_of(self, ctx: TransformContext) -> Any:
        """The label field of a transformed case: an image by default."""
        return ctx.get_image(self.label_field)

    def case_samples(self, epoch: int, index: int) -> list[dict[str, np.ndarray]]:
        """The training samples of one case in ``epoch`` (the unit of parallel work)."""
        ctx = self._prefix(index)
        if ctx is None:
            return []
        suffixes = self._suffixes()
        suffix = suffixes.get()  # one private copy of the random transforms per worker
        try:
            ctx = suffix(ctx, epoch, index)
            ctx[self.label_field] = self.label_of(ctx)
        except CaseError as exc:
            if not self.skip_bad_cases:
                raise
            self.bad_cases[index] = str(exc)
            return []
        finally:
            suffixes.put(suffix)
        return unbatch_samples(ctx, [self.image_field, self.label_field])

    def epoch_order(self, epoch: int) -> list[int]:
        """The cases of ``epoch`` in training order (shuffled from the seed and epoch)."""
        self._smart_cache_turn(epoch)
        order = np.array(self.epoch_cases(epoch))
        if self.shuffle:
            np.random.default_rng([self._seed, epoch]).shuffle(order)
        return [int(i) for i in order]

    def samples(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        """Training samples of one epoch: ``{"image": CDHW, "label": ...}`` arrays."""
        order = self.epoch_order(epoch)
        with ThreadPoolExecutor(self.num_workers) as pool:
            for samples in ordered_map(pool, lambda i: self.case_samples(epoch, i), order,
                                       window=2 * self.num_workers):
                for s in samples:
                    yield self._formatted(s)

    def _formatted(self, sample: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: self._format(v, k == self.image_field or v.ndim > 1)
                for k, v in sample.items()}

    def _format(self, data: np.ndarray, spatial: bool = True) -> np.ndarray:
        """The sample in the output layout, as a view where possible: stacking the
        batch is the one copy."""
        if spatial and self.output_data_format == "channels_last":
            data = np.moveaxis(data, 0, -1)
        return data if data.dtype == np.float32 else data.astype(np.float32)

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stacked (image, label) batches; a last smaller batch is dropped, except when
        an epoch holds fewer samples than one batch: then its samples repeat to fill
        one (the SDK's ``repeat``), rather than train no step at all."""
        batch: list[dict[str, np.ndarray]] = []
        full = 0
        for s in self.samples(epoch):
            batch.append(s)
            if len(batch) == self.output_batch_size:
                yield self._stacked(batch)
                full, batch = full + 1, []
        if not full and batch:
            if epoch == 0:
                log.warning("%s: %d sample(s) per epoch, fewer than output_batch_size %d: "
                            "they repeat to fill one batch per epoch", type(self).__name__,
                            len(batch), self.output_batch_size)
            yield self._stacked([batch[i % len(batch)] for i in range(self.output_batch_size)])

    def _batch_transformed(self, images: np.ndarray,
                           labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        fmt = "N" + ("C" if self.output_data_format == "channels_first" else "")
        spatial = "DHW"[3 - (images.ndim - 2):]
        layout = fmt + spatial + ("" if self.output_data_format == "channels_first" else "C")
        ctx = TransformContext()
        ctx.set_image(self.image_field, MedicalImage(images, layout))
        if labels.ndim == images.ndim:
            ctx.set_image(self.label_field, MedicalImage(labels, layout))
        else:  # class labels
            ctx[self.label_field] = labels
        ctx = run_transforms(self._batch_transforms, ctx)
        label = ctx[self.label_field]
        return (ctx.get_image(self.image_field).get_data(),
                label.get_data() if isinstance(label, MedicalImage) else np.asarray(label))

    def _stacked(self, samples: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        batch = (np.stack([s[self.image_field] for s in samples]),  # the one copy
                 np.stack([s[self.label_field] for s in samples]))
        return self._batch_transformed(*batch) if self._batch_transforms else batch

    # -- several replicas ------------------------------------------------------------

    def set_shard(self, replicas: Sequence[int], num_replicas: int) -> bool:
        """Train replicas ``replicas`` of ``num_replicas``: see :mod:`clara_core.data.shard`."""
        shard = Shard(tuple(int(r) for r in replicas), int(num_replicas))
        shard.per_replica_batch(self.output_batch_size)  # refuse an uneven split now
        self._shard = shard
        self._cached, self._property, self._samples_per_case = {}, None, None
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

    def replica_feed(self, epoch: int) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
        shard = self._shard
        if shard is None:
            raise ClaraError(f"{type(self).__name__}.replica_feed needs set_shard first.")
        self._smart_cache_turn(epoch)
        window = self._window(epoch)
        size = shard.per_replica_batch(self.output_batch_size)
        steps = shard.steps(window, self.samples_per_case(), self.output_batch_size)
        if steps == 0:  # fewer samples than a batch: they repeat to fill one, as on one device
            if any(not shard.replica_cases(window, g) for g in range(shard.num_replicas)):
                raise ClaraError(f"{len(window)} training case(s) cannot give each of "
                                 f"{shard.num_replicas} replicas a case: add cases, or train "
                                 "on fewer devices or workers.")
            steps = 1
        streams = [self._cycled_samples(epoch, shard.order(window, g, self._seed, epoch,
                                                           self.shuffle))
                   for g in shard.replicas]

        def steps_of_epoch() -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
            for _ in range(steps):
                yield [self._stacked([next(stream) for _ in range(size)]) for stream in streams]

        return prefetched(steps_of_epoch(), self.prefetch_size)

    def _cycled_samples(self, epoch: int, order: list[int]) -> Iterator[dict[str, np.ndarray]]:
        """The samples of ``order``'s cases, starting over at the end (a replica whose
        bad cases were skipped repeats its others rather than run short)."""
        def cases() -> Iterator[int]:
            while True:
                yield from order

        empty = 0
        with ThreadPoolExecutor(self.num_workers) as pool:
            for samples in ordered_map(pool, lambda i: self.case_samples(epoch, i), cases(),
                                       window=2 * self.num_workers):
                empty = 0 if samples else empty + 1
                if empty >= len(order):
                    raise ClaraError(f"Every training case of this replica ({order}) was "
                                     "skipped as bad; fix them (see the warnings above).")
                for s in samples:
                    yield self._formatted(s)

    def feed(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The batches of ``epoch``, prepared ``prefetch_size`` batches ahead in a
        background thread: what the engine trains on with one device (several
        devices take :meth:`get_dataset`)."""
        return prefetched(self.batches(epoch), self.prefetch_size)

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
        signature = tuple(tf.TensorSpec((self.output_batch_size, *s), tf.float32)
                          for s in shapes)
        ds = tf.data.Dataset.from_generator(lambda: self.batches(epoch),
                                            output_signature=signature)
        return ds.prefetch(self.prefetch_size) if self.prefetch_size else ds


__all__ = ["ImagePipeline"]
