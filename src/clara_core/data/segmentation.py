"""``SegmentationImagePipeline``: datalist -> transform chain -> batches for ``tf.data``."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from clara_core.components.pipeline import DataPipeline, DataProperty
from clara_core.components.transform import Transformer
from clara_core.config.datalist import load_datalist
from clara_core.data.chain import SeededSuffix, run_transforms, split_chain, unbatch_samples
from clara_core.data.prefetch import ordered_map, prefetched
from clara_core.image.transform_ctx import TransformContext
from clara_core.validation import check_arguments


class SegmentationImagePipeline(DataPipeline):
    """Image/label pairs from a datalist through the ``pre_transforms`` chain.

    The deterministic prefix of the chain (loading, intensity scaling, ...) runs
    once per case and is kept in memory; the random suffix (crops, flips) runs
    every epoch in ``num_workers`` threads, seeded per (epoch, case) so batches are
    the same for any worker count. Crops that emit several samples per case
    (``NCDHW``) are split into samples. Batches of ``output_batch_size`` are handed
    to ``tf.data`` with ``prefetch_size`` batches prefetched.
    """

    def __init__(self, data_list_file_path: str, data_file_base_dir: str | None = None,
                 data_list_key: str = "training",
                 output_crop_size: Sequence[int] | None = None, output_batch_size: int = 1,
                 batched_by_transforms: bool = False, num_workers: int = 1,
                 prefetch_size: int = 1, output_data_format: str = "channels_first",
                 image_field: str = "image", label_field: str = "label",
                 shuffle: bool | None = None, cache: bool = True) -> None:
        check_arguments("SegmentationImagePipeline", [
            ("output_batch_size", output_batch_size, output_batch_size >= 1, "an integer >= 1"),
            ("num_workers", num_workers, num_workers >= 1, "an integer >= 1"),
            ("prefetch_size", prefetch_size, prefetch_size >= 0, "an integer >= 0"),
            ("output_data_format", output_data_format,
             output_data_format in ("channels_first", "channels_last"),
             "'channels_first' or 'channels_last'"),
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
        self.shuffle = data_list_key == "training" if shuffle is None else shuffle
        self.cache = cache
        self._transforms: list[Transformer] = []
        self._seed = 0
        self._root = os.getcwd()
        self._items: list[dict[str, Any]] | None = None
        self._cached: dict[int, TransformContext] = {}
        self._lock = threading.Lock()
        self._property: DataProperty | None = None
        self._suffix_pool: queue.SimpleQueue[SeededSuffix] | None = None

    # -- set up by the engine ------------------------------------------------------

    def set_transforms(self, transforms: Sequence[Transformer]) -> None:
        self._transforms = list(transforms)
        self._cached = {}
        self._suffix_pool = None

    def set_seed(self, seed: int) -> None:
        self._seed = int(seed)
        self._suffix_pool = None

    def set_root(self, root: str) -> None:
        """Resolve relative datalist paths against ``root`` (the MMAR folder)."""
        self._root = root
        self._items = None

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

    def _prefix(self, index: int) -> TransformContext:
        cached = self._cached.get(index)
        if cached is not None:
            return cached.copy()
        head, _ = split_chain(self._transforms)
        ctx = run_transforms(head, TransformContext(self.items()[index]))
        if self.cache:
            for field, value in list(ctx.items()):
                data = value.get_data() if hasattr(value, "get_data") else None
                if isinstance(data, np.ndarray):
                    if not data.flags.c_contiguous:  # e.g. a transposed NIfTI: crops of a
                        data = np.ascontiguousarray(data)  # C-ordered array copy faster
                        ctx.set_image(field, value.new_image(data, value.get_shape_format()))
                    data.setflags(write=False)  # random transforms get views: guard it
            with self._lock:
                self._cached[index] = ctx
            return ctx.copy()
        return ctx

    def cache_all(self) -> int:
        """Run the deterministic prefix of every case now, in ``num_workers`` threads
        (otherwise the first epoch fills the cache as it goes); returns the count."""
        if not self.cache:
            return 0
        with ThreadPoolExecutor(self.num_workers) as pool:
            list(pool.map(self._prefix, range(len(self.items()))))
        return len(self._cached)

    def cases(self) -> Iterator[TransformContext]:
        """Each case through the whole chain in datalist order (validation uses this)."""
        _, tail = split_chain(self._transforms)
        suffix = SeededSuffix(tail, self._seed)
        with ThreadPoolExecutor(self.num_workers) as pool:
            yield from pool.map(lambda i: suffix(self._prefix(i), 0, i),
                                range(len(self.items())))

    def _suffixes(self) -> queue.SimpleQueue[SeededSuffix]:
        """``num_workers`` copies of the random suffix, kept across epochs (transforms
        may keep per-case state, such as the crop's foreground indices)."""
        if self._suffix_pool is None:
            _, tail = split_chain(self._transforms)
            self._suffix_pool = queue.SimpleQueue()
            for _ in range(self.num_workers):
                self._suffix_pool.put(SeededSuffix(tail, self._seed))
        return self._suffix_pool

    def samples(self, epoch: int) -> Iterator[dict[str, np.ndarray]]:
        """Training samples of one epoch: ``{"image": CDHW, "label": CDHW}`` arrays."""
        order = np.arange(len(self.items()))
        if self.shuffle:
            np.random.default_rng([self._seed, epoch]).shuffle(order)
        suffixes = self._suffixes()

        def work(index: int) -> list[dict[str, np.ndarray]]:
            suffix = suffixes.get()  # one private copy of the random transforms per worker
            try:
                ctx = suffix(self._prefix(int(index)), epoch, int(index))
            finally:
                suffixes.put(suffix)
            return unbatch_samples(ctx, [self.image_field, self.label_field])

        with ThreadPoolExecutor(self.num_workers) as pool:
            for samples in ordered_map(pool, work, order.tolist(), window=2 * self.num_workers):
                for s in samples:
                    yield {k: self._format(v) for k, v in s.items()}

    def _format(self, data: np.ndarray) -> np.ndarray:
        """The sample in the output layout, as a view where possible: stacking the
        batch is the one copy."""
        if self.output_data_format == "channels_last":
            data = np.moveaxis(data, 0, -1)
        return data if data.dtype == np.float32 else data.astype(np.float32)

    def batches(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stacked (image, label) batches; a last smaller batch is dropped."""
        images: list[np.ndarray] = []
        labels: list[np.ndarray] = []
        for s in self.samples(epoch):
            images.append(s[self.image_field])
            labels.append(s[self.label_field])
            if len(images) == self.output_batch_size:
                yield np.stack(images), np.stack(labels)  # contiguous float32 batches
                images, labels = [], []

    def feed(self, epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The batches of ``epoch``, prepared ``prefetch_size`` batches ahead in a
        background thread: what the engine trains on with one device (several
        devices take :meth:`get_dataset`)."""
        return prefetched(self.batches(epoch), self.prefetch_size)

    def get_data_property(self) -> DataProperty:
        if self._property is None:
            first = next(self.samples(0))
            image, label = first[self.image_field], first[self.label_field]
            ch = 0 if self.output_data_format == "channels_first" else -1
            spatial = image.shape[1:] if ch == 0 else image.shape[:-1]
            self._property = DataProperty(self.output_data_format, int(image.shape[ch]),
                                          int(label.shape[ch]), tuple(int(s) for s in spatial))
        return self._property

    def get_dataset(self, epoch: int = 0) -> Any:
        """The batches of ``epoch`` as a prefetched ``tf.data.Dataset``."""
        import tensorflow as tf

        prop = self.get_data_property()
        ch_first = prop.data_format == "channels_first"

        def shape(channels: int) -> tuple[int | None, ...]:
            spatial = tuple(prop.crop_shape)
            full = (channels, *spatial) if ch_first else (*spatial, channels)
            return (self.output_batch_size, *full)

        signature = (tf.TensorSpec(shape(prop.num_channels), tf.float32),
                     tf.TensorSpec(shape(prop.num_label_channels), tf.float32))
        ds = tf.data.Dataset.from_generator(lambda: self.batches(epoch),
                                            output_signature=signature)
        return ds.prefetch(self.prefetch_size) if self.prefetch_size else ds
