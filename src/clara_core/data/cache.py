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
import shutil
import tempfile
from typing import Any

import numpy as np

from clara_core.errors import ClaraError
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

META = "meta.json"


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


def encode(value: Any) -> Any:
    """A case value as plain JSON: arrays and tuples are tagged, NumPy scalars become
    numbers. Nothing is ever pickled: a cache folder cannot carry code.

    >>> encode({"affine": np.eye(2), "shape": (3, 4), "n": np.int64(2)})
    {'affine': {'__ndarray__': [[1.0, 0.0], [0.0, 1.0]], 'dtype': 'float64'}, 'shape': {'__tuple__': [3, 4]}, 'n': 2}
    >>> decode(encode({"a": (1, np.float32(2))}))
    {'a': (1, 2.0)}
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"an array of dtype {value.dtype}")
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        if "__ndarray__" in value or "__tuple__" in value:
            raise TypeError("a dict with a reserved key")
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(f"a {type(value).__name__}")


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=np.dtype(str(value["dtype"])))
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        return {k: decode(v) for k, v in value.items()}
    return value


class DiskStore:
    """Prefix outputs on disk, one folder per case: each image's array as ``.npy``
    (memory-mapped when read back, so the operating system's page cache holds what
    fits; never with pickled objects) and the rest in ``meta.json``. Folders are
    written under a temporary name and renamed, so an interrupted run never leaves
    half a case behind; an entry that does not read back is named with what to do.

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
        meta_path = os.path.join(path, META)
        if not os.path.exists(meta_path):
            return None
        try:
            with open(meta_path, encoding="utf-8") as f:
                meta = json.load(f)
            ctx = TransformContext(decode(meta["raw"]))
            for field, (fmt, props) in meta["images"].items():
                data = np.load(os.path.join(path, f"{field}.npy"), mmap_mode="r",
                               allow_pickle=False)
                ctx.set_image(field, MedicalImage(data, fmt, decode(props)))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ClaraError(
                f"The disk cache entry {path} is damaged ({type(exc).__name__}: {exc}). "
                "Delete that folder (or the whole cache_dir) and run again: it is rebuilt "
                "from the source files.") from None
        return ctx

    def save(self, key: str, ctx: TransformContext) -> None:
        final = os.path.join(self.folder, key)
        if os.path.exists(os.path.join(final, META)):
            return
        if os.path.isdir(final):  # an entry of an older format (meta.pkl): never read it
            stale = tempfile.mkdtemp(prefix=f".stale-{key}.", dir=self.folder)
            os.replace(final, os.path.join(stale, key))
            shutil.rmtree(stale, ignore_errors=True)
        tmp = tempfile.mkdtemp(prefix=f".{key}.", dir=self.folder)
        meta: dict[str, Any] = {"raw": {}, "images": {}}
        try:
            for field, value in ctx.items():
                if isinstance(value, MedicalImage):
                    np.save(os.path.join(tmp, f"{field}.npy"),
                            np.ascontiguousarray(value.get_data()), allow_pickle=False)
                    meta["images"][field] = [str(value.get_shape_format()),
                                             encode(value.get_properties())]
                else:
                    meta["raw"][field] = encode(value)
            with open(os.path.join(tmp, META), "w", encoding="utf-8") as f:
                json.dump(meta, f)
        except (TypeError, ValueError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise ClaraError(f"cache_dir cannot keep this case: a field holds {exc}, which "
                             "is not an image, a number, a string or a list of them. Leave "
                             "cache_dir out to cache in memory.") from None
        try:
            os.replace(tmp, final)
        except OSError:  # another worker got there first
            shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["DiskStore", "case_key", "decode", "encode", "smart_window"]
