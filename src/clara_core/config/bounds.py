"""Sizes a config can never run with: a crop, ROI or window bigger than memory.

A size argument (``size``, ``roi_size``, ``target_shape``, ``spatial_size``: any
argument named ``size``/``shape`` or ending in ``_size``/``_shape`` whose value is a
list of numbers) sets the voxels of one sample. One sample of one channel in float32,
times the batch that holds it (or the ``num_samples`` a crop makes of one case), is
the least memory a run needs for it; more than the
machine has is a config error at that location, naming the limit, where a run would
otherwise reach NumPy with a petabyte allocation. (A size over the data's shape is
legal: crops and windows pad.) The bound is memory, not a guess at a sane volume:
what fits, runs.

>>> from clara_core.config.entries import Entry
>>> e = Entry(("train", "pre_transforms", 3), "transform",
...           {"name": "Crop", "args": {"size": [10 ** 12, 64, 64]}})
>>> [p.location for p in check_sizes([e], {}, memory=64 * 2 ** 30)]
['train.pre_transforms[3].args.size']
>>> check_sizes([e], {}, memory=2 ** 80)
[]
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

from clara_core.config.entries import Entry
from clara_core.config.jsonio import Loc, format_location, problem_at
from clara_core.errors import Problem

_SIZE_ARG = re.compile(r"(^|_)(size|shape)$")
BYTES_PER_VOXEL = 4  # float32, one channel: the least a sample takes


def physical_memory() -> int:
    """This machine's memory in bytes (0 when the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 0


def human(nbytes: float) -> str:
    """``nbytes`` in the unit that reads best.

    >>> human(3 * 2 ** 30), human(1.8 * 2 ** 50), human(2.0 ** 90)
    ('3.0 GiB', '1.8 PiB', '1.1e+12 PiB')
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024:
            return f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} PiB" if nbytes < 1000 else f"{nbytes:.3g} PiB"


def size_args(args: dict[str, Any]) -> list[tuple[str, list[float]]]:
    """The spatial-size arguments of an entry's ``args``.

    >>> size_args({"size": [64, 64], "output_batch_size": 4, "roi_size": [1, 2.0]})
    [('size', [64, 64]), ('roi_size', [1, 2.0])]
    """
    return [(k, v) for k, v in args.items() if _SIZE_ARG.search(k) and isinstance(v, list)
            and v and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)]


def check_sizes(entries: list[Entry], batches: dict[Loc, int],
                memory: int | None = None) -> list[Problem]:
    """A problem for each size whose samples, times the batch of its section
    (``batches``: a section's location, ``("train",)``, -> batch size), exceed ``memory`` (default:
    this machine's)."""
    limit = physical_memory() if memory is None else memory
    if limit <= 0:
        return []
    problems: list[Problem] = []
    for e in entries:
        args = e.spec.get("args")
        if "ref" in e.spec or not isinstance(args, dict):
            continue
        skipped = getattr(type(e.instance), "no_effect_args", {})
        # a crop's samples of one case are made together, the batch holds them after
        samples = args.get("num_samples", args.get("batch_size", 1))
        samples = samples if isinstance(samples, int) and not isinstance(samples, bool) else 1
        batch = max(1, batches.get(e.loc[:1], 1), samples)
        for name, axes in size_args(args):
            if name in skipped:
                continue
            voxels = math.prod(abs(float(a)) for a in axes if math.isfinite(a))
            need = voxels * BYTES_PER_VOXEL * batch
            if need > limit:
                of = f" times {batch} samples" if batch > 1 else ""
                problems.append(problem_at(
                    (*e.loc, "args", name),
                    f"{name} {axes} is {voxels:.3g} voxels a sample: {human(need)} as "
                    f"float32{of}, more than this machine's {human(limit)} of memory",
                    "a crop, ROI or window is a part of one volume: give each axis about "
                    "the size of the data's (or smaller)" if need / batch > limit else
                    "make fewer samples at once (num_samples, output_batch_size)"))
    return problems


def check_window_rank(entries: list[Entry]) -> list[Problem]:
    """An inferer's ``roi_size`` has as many axes as the training crops (the sizes of
    ``train.pre_transforms``) when those agree: windows and crops cover the same
    images, and a window of other rank fails on the first validation case.

    >>> crop = Entry(("train", "pre_transforms", 2), "transform", {"args": {"size": [8, 8, 8]}})
    >>> roi = Entry(("validate", "inferer"), "inferer", {"args": {"roi_size": [8, 8]}})
    >>> print(check_window_rank([crop, roi])[0])  # doctest: +ELLIPSIS
    validate.inferer.args.roi_size: roi_size [8, 8] has 2 axes, but the training crops have 3 (train.pre_transforms[2].args.size)...
    """
    crops = [(e, n, len(v)) for e in entries if e.loc[:2] == ("train", "pre_transforms")
             and isinstance(e.spec.get("args"), dict) for n, v in size_args(e.spec["args"])]
    ranks = {r for _, _, r in crops}
    if len(ranks) != 1:
        return []
    (rank,) = ranks
    first, name, _ = crops[0]
    problems: list[Problem] = []
    for e in entries:
        roi = e.spec.get("args", {}).get("roi_size") if e.kind == "inferer" else None
        if isinstance(roi, list) and len(roi) != rank:
            problems.append(problem_at(
                (*e.loc, "args", "roi_size"),
                f"roi_size {roi} has {len(roi)} axes, but the training crops have {rank} "
                f"({format_location((*first.loc, 'args', name))})",
                "give the window one size per spatial axis of the images"))
    return problems


__all__ = ["BYTES_PER_VOXEL", "check_sizes", "check_window_rank", "human", "physical_memory", "size_args"]
