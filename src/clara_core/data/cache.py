"""Where the deterministic prefix's outputs live: the smart cache's window of cases per
epoch, and an on-disk store for data sets larger than memory.

The smart cache (the SDK's, and MONAI's ``SmartCacheDataset``) holds
``num_cache_objects`` cases and replaces ``replace_percent`` of them after every
epoch, oldest first, walking through the datalist. Here the window of an epoch is
a function of the epoch number alone, so a resumed run and any worker count train
on the same cases:

>>> smart_window(epoch=0, size=10, capacity=4, replace_percent=0.5)
[0, 1, 2, 3]
>>> smart_window(epoch=1, size=10, capacity=4, replace_percent=0.5)
[2, 3, 4, 5]
>>> smart_window(epoch=4, size=10, capacity=4, replace_percent=0.5)
[8, 9, 0, 1]
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import shutil
import tempfile
from typing import Any

import numpy as np

from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext


def smart_window(epoch: int, size: int, capacity: int | None,
                 replace_percent: float) -> list[int]:
    """The case indices the smart cache holds during ``epoch``."""
    if capacity is None or capacity >= size:
        return list(range(size))
    step = max(1, math.ceil(capacity * replace_percent)) if replace_percent > 0 else 0
    start = epoch * step
    return [(start + k) % size for k in range(capacity)]


def case_key(item: dict[str, Any], transforms: list[Any]) -> str:
    """A name for a case's cached prefix output that changes when the case or the
    prefix's transforms (names and arguments) change."""
    chain = [[type(t).__module__, type(t).__qualname__, t.get_config()] for t in transforms]
    text = json.dumps([item, chain], sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class DiskStore:
    """Prefix outputs on disk, one folder per case: each image's array as ``.npy``
    (memory-mapped when read back, so the operating system's page cache holds what
    fits) and the rest in ``meta.pkl``. Folders are written under a temporary name
    and renamed, so an interrupted run never leaves half a case behind.

    >>> store = DiskStore(tempfile.mkdtemp())
    >>> ctx = TransformContext({"id": 3}); ctx.set_image("image", MedicalImage(np.ones((2, 2)), "HW"))
    >>> store.save("k", ctx)
    >>> back = store.load("k")
    >>> back["id"], back.get_image("image").get_data().sum(), store.load("other")
    (3, np.float64(4.0), None)
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    def load(self, key: str) -> TransformContext | None:
        path = os.path.join(self.folder, key)
        meta_path = os.path.join(path, "meta.pkl")
        if not os.path.exists(meta_path):
            return None
        with open(meta_path, "rb") as f:
            meta = pickle.load(f)
        ctx = TransformContext(meta["raw"])
        for field, (fmt, props) in meta["images"].items():
            data = np.load(os.path.join(path, f"{field}.npy"), mmap_mode="r")
            ctx.set_image(field, MedicalImage(data, fmt, props))
        return ctx

    def save(self, key: str, ctx: TransformContext) -> None:
        final = os.path.join(self.folder, key)
        if os.path.exists(final):
            return
        tmp = tempfile.mkdtemp(prefix=f".{key}.", dir=self.folder)
        meta: dict[str, Any] = {"raw": {}, "images": {}}
        for field, value in ctx.items():
            if isinstance(value, MedicalImage):
                np.save(os.path.join(tmp, f"{field}.npy"), np.ascontiguousarray(value.get_data()))
                meta["images"][field] = (str(value.get_shape_format()), value.get_properties())
            else:
                meta["raw"][field] = value
        with open(os.path.join(tmp, "meta.pkl"), "wb") as f:
            pickle.dump(meta, f)
        try:
            os.replace(tmp, final)
        except OSError:  # another worker got there first
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["DiskStore", "case_key", "smart_window"]
