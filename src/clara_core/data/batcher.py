"""``Batcher``: prefix outputs -> augmented samples -> batches.

It takes the prefix output of a case from ``case(index)`` (a
:class:`~clara_core.data.case_cache.CaseCache`'s ``get``, or any function) and runs
the random suffix of the chain on it in ``num_workers`` threads, each with a private
copy of the random transforms seeded from ``(seed, epoch, case)``: the same seed
gives the same samples whatever the worker count, and no two cases or epochs repeat
an augmentation. Crops that emit several samples per case (``NCDHW``) are split into
samples; an epoch's order is shuffled from ``(seed, epoch)``; samples are put in the
output layout as views, and batches of ``batch_size`` stacked once (the only copy),
then run through the batch transforms.

>>> def case(index):
...     ctx = TransformContext()
...     ctx.set_image("image", MedicalImage(np.full((1, 2, 2), index, np.float32), "CHW"))
...     ctx.set_image("label", MedicalImage(np.zeros((1, 2, 2), np.uint8), "CHW"))
...     return ctx
>>> batcher = Batcher(case, [], batch_size=2, data_format="channels_last", shuffle=False)
>>> [(images.shape, images[:, 0, 0, 0].tolist()) for images, _ in batcher.batches(0, range(4))]
[((2, 2, 2, 1), [0.0, 1.0]), ((2, 2, 2, 1), [2.0, 3.0])]
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from clara_core.components.transform import Transformer
from clara_core.data.chain import CaseError, SeededSuffix, run_transforms, unbatch_samples
from clara_core.data.prefetch import ordered_map
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

log = logging.getLogger("clara")

Sample = dict[str, np.ndarray]
Batch = tuple[np.ndarray, np.ndarray]


class Batcher:
    """Samples and batches of an epoch from the prefix outputs ``case(index)`` gives
    (None: a skipped case, no samples).

    ``transforms``: the random suffix. ``label_of(ctx)``: the label of a transformed
    case (default: the ``label_field`` image). ``bad_cases``: where a case the random
    transforms reject is recorded and skipped (None: it raises). ``owner`` names the
    pipeline in log lines.
    """

    def __init__(self, case: Callable[[int], TransformContext | None],
                 transforms: Sequence[Transformer], *, seed: int = 0, num_workers: int = 1,
                 batch_size: int = 1, data_format: str = "channels_first",
                 image_field: str = "image", label_field: str = "label", shuffle: bool = True,
                 label_of: Callable[[TransformContext], Any] | None = None,
                 batch_transforms: Sequence[Transformer] = (),
                 bad_cases: dict[int, str] | None = None, owner: str = "Batcher") -> None:
        self.case, self.transforms, self.seed = case, list(transforms), int(seed)
        self.num_workers, self.batch_size = num_workers, batch_size
        self.data_format, self.shuffle = data_format, shuffle
        self.image_field, self.label_field = image_field, label_field
        self.label_of = label_of or (lambda ctx: ctx.get_image(self.label_field))
        self.batch_transforms = list(batch_transforms)
        self.bad_cases, self.owner = bad_cases, owner
        self._suffixes: queue.SimpleQueue[SeededSuffix] | None = None

    # -- one case ------------------------------------------------------------------

    def suffixes(self) -> queue.SimpleQueue[SeededSuffix]:
        """``num_workers`` copies of the random suffix, kept across epochs (transforms
        may keep per-case state, such as the crop's foreground indices)."""
        if self._suffixes is None:
            self._suffixes = queue.SimpleQueue()
            for _ in range(self.num_workers):
                self._suffixes.put(SeededSuffix(self.transforms, self.seed))
        return self._suffixes

    def transformed(self, ctx: TransformContext, epoch: int, index: int) -> TransformContext:
        """Case ``index``'s prefix output ``ctx`` through the random suffix as seeded for
        ``epoch``, by a private copy of the transforms (safe in any thread)."""
        suffixes = self.suffixes()
        suffix = suffixes.get()  # one private copy of the random transforms per worker
        try:
            return suffix(ctx, epoch, index)
        finally:
            suffixes.put(suffix)

    def case_samples(self, epoch: int, index: int) -> list[Sample]:
        """The training samples of one case in ``epoch`` (the unit of parallel work)."""
        ctx = self.case(index)
        if ctx is None:
            return []
        try:
            ctx = self.transformed(ctx, epoch, index)
            ctx[self.label_field] = self.label_of(ctx)
        except CaseError as exc:
            if self.bad_cases is None:
                raise
            self.bad_cases[index] = str(exc)
            return []
        return unbatch_samples(ctx, [self.image_field, self.label_field])

    # -- an epoch ------------------------------------------------------------------

    def order(self, cases: Sequence[int], epoch: int) -> list[int]:
        """``cases`` in ``epoch``'s training order (shuffled from the seed and epoch)."""
        order = np.array(cases)
        if self.shuffle:
            np.random.default_rng([self.seed, epoch]).shuffle(order)
        return [int(i) for i in order]

    def case_stream(self, epoch: int, order: Iterable[int]) -> Iterator[list[Sample]]:
        """Each case's samples (as :meth:`case_samples`, not yet formatted) in
        ``order``, made in ``num_workers`` threads at most two per thread ahead;
        ``order`` may be endless."""
        with ThreadPoolExecutor(self.num_workers) as pool:
            yield from ordered_map(pool, lambda i: self.case_samples(epoch, i), order,
                                   window=2 * self.num_workers)

    def samples(self, epoch: int, order: Iterable[int]) -> Iterator[Sample]:
        """The formatted samples of ``order``'s cases in ``epoch``."""
        for samples in self.case_stream(epoch, order):
            for s in samples:
                yield self.formatted(s)

    def batches(self, epoch: int, order: Iterable[int]) -> Iterator[Batch]:
        """Stacked (image, label) batches; a last smaller batch is dropped, except when
        an epoch holds fewer samples than one batch: then its samples repeat to fill
        one (the SDK's ``repeat``), rather than train no step at all."""
        batch: list[Sample] = []
        full = 0
        for s in self.samples(epoch, order):
            batch.append(s)
            if len(batch) == self.batch_size:
                yield self.stack(batch)
                full, batch = full + 1, []
        if not full and batch:
            if epoch == 0:
                log.warning("%s: %d sample(s) per epoch, fewer than output_batch_size %d: "
                            "they repeat to fill one batch per epoch", self.owner,
                            len(batch), self.batch_size)
            yield self.stack([batch[i % len(batch)] for i in range(self.batch_size)])

    # -- layout and batches ----------------------------------------------------------

    def formatted(self, sample: Sample) -> Sample:
        """The sample in the output layout, as views where possible: stacking the batch
        is the one copy."""
        out = {}
        for k, data in sample.items():
            if (k == self.image_field or data.ndim > 1) and self.data_format == "channels_last":
                data = np.moveaxis(data, 0, -1)
            out[k] = data if data.dtype == np.float32 else data.astype(np.float32)
        return out

    def stack(self, samples: Sequence[Sample]) -> Batch:
        """One batch of ``samples``, through the batch transforms."""
        batch = (np.stack([s[self.image_field] for s in samples]),  # the one copy
                 np.stack([s[self.label_field] for s in samples]))
        return self._batch_transformed(*batch) if self.batch_transforms else batch

    def _batch_transformed(self, images: np.ndarray, labels: np.ndarray) -> Batch:
        fmt = "N" + ("C" if self.data_format == "channels_first" else "")
        spatial = "DHW"[3 - (images.ndim - 2):]
        layout = fmt + spatial + ("" if self.data_format == "channels_first" else "C")
        ctx = TransformContext()
        ctx.set_image(self.image_field, MedicalImage(images, layout))
        if labels.ndim == images.ndim:
            ctx.set_image(self.label_field, MedicalImage(labels, layout))
        else:  # class labels
            ctx[self.label_field] = labels
        ctx = run_transforms(self.batch_transforms, ctx)
        label = ctx[self.label_field]
        return (ctx.get_image(self.image_field).get_data(),
                label.get_data() if isinstance(label, MedicalImage) else np.asarray(label))


__all__ = ["Batch", "Batcher", "Sample"]
