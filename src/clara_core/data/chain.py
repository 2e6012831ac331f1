"""Running a transform chain: a cached deterministic prefix and a seeded random suffix."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from clara_core.components.transform import Transformer
from clara_core.image.transform_ctx import TransformContext


def split_chain(transforms: Sequence[Transformer]) -> tuple[list[Transformer], list[Transformer]]:
    """Split at the first transform whose ``is_deterministic()`` is False.

    >>> class T(Transformer):
    ...     def __init__(self, det): self.det = det
    ...     def is_deterministic(self): return self.det
    >>> head, tail = split_chain([T(True), T(False), T(True)])
    >>> len(head), len(tail)
    (1, 2)
    """
    for i, t in enumerate(transforms):
        if not t.is_deterministic():
            return list(transforms[:i]), list(transforms[i:])
    return list(transforms), []


def run_transforms(transforms: Sequence[Transformer], ctx: TransformContext) -> TransformContext:
    """Apply ``transforms`` in order; an error names the transform and the case's files."""
    for t in transforms:
        try:
            ctx = t.transform(ctx)
        except Exception as exc:
            files = {k: v for k, v in ctx.items() if isinstance(v, str)}
            raise RuntimeError(
                f"Transform {type(t).__name__} failed on case {files}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(ctx, TransformContext):
            raise TypeError(f"{type(t).__name__}.transform() returned {type(ctx).__name__}; it "
                            "must return the TransformContext it was given.")
    return ctx


class SeededSuffix:
    """Private copies of the random transforms, reseeded per (epoch, case).

    Seeding from ``(seed, epoch, case)`` makes the augmentation of a case the same
    whatever the worker count or order, and different for every case and epoch.
    """

    def __init__(self, transforms: Sequence[Transformer], seed: int) -> None:
        self.transforms = [copy.deepcopy(t) for t in transforms]
        self.seed = seed

    def __call__(self, ctx: TransformContext, epoch: int, case: int) -> TransformContext:
        seq = np.random.SeedSequence([self.seed, epoch, case])
        for t, s in zip(self.transforms, seq.spawn(len(self.transforms)), strict=True):
            t.set_random_state(int(s.generate_state(1)[0]))
        return run_transforms(self.transforms, ctx.copy())


def unbatch_samples(ctx: TransformContext, fields: Sequence[str]) -> list[dict[str, Any]]:
    """Split a case into samples: fields with a batch axis (``N...``) give one sample each."""
    images = {f: ctx.get_image(f) for f in fields}
    counts = {img.get_data().shape[0] for img in images.values()
              if img.get_shape_format().is_batched()}
    if not counts:
        return [{f: img.get_data() for f, img in images.items()}]
    if len(counts) > 1:
        raise ValueError(f"Fields {list(fields)} have different batch sizes {sorted(counts)}.")
    n = counts.pop()
    return [{f: img.get_data()[i] if img.get_shape_format().is_batched() else img.get_data()
             for f, img in images.items()} for i in range(n)]
