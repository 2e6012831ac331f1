"""Atomic writes: a reader sees the old file (or folder) or the new one, never half of one.

:func:`atomic_path` is the one way clara writes a file others may read while it is
written (checkpoints, resume points, exported models, predictions): the writer
writes to a temporary name beside the target, which then replaces the target in
one rename. The temporary name keeps the target's ending, because Keras, nibabel and
NumPy choose the format from it, and starts with ``.tmp-``, the prefix
:meth:`~clara_core.mmar.run_folder.RunFolder.remove_temporaries` clears after a
crash. It is unique per call, so threads and processes writing the same target at
once never share one; the last rename wins.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "out", "a.txt")
>>> with atomic_path(path) as tmp:
...     with open(tmp, "w") as f:
...         _ = f.write("new")
...     os.path.basename(tmp).startswith(".tmp-"), os.path.exists(path)
(True, False)
>>> open(path).read(), os.listdir(os.path.dirname(path))
('new', ['a.txt'])
>>> with atomic_path(path) as tmp:
...     with open(tmp, "w") as f:
...         _ = f.write("half")
...     raise OSError("disk full")
Traceback (most recent call last):
...
OSError: disk full
>>> open(path).read(), os.listdir(os.path.dirname(path))   # the old file, nothing left
('new', ['a.txt'])
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: the prefix of every temporary name (what a crash may leave behind)
TMP_PREFIX = ".tmp-"


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """A temporary name beside ``path`` (its folder is created) to write a file or a
    folder to; when the block ends, it replaces ``path``; when the block raises, it
    is removed and ``path`` is left as it was."""
    target = os.path.abspath(path)
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}-{name}")
    try:
        yield tmp
        replace_atomic(tmp, target)
    finally:
        _remove(tmp)


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], object]) -> str:
    """``write(tmp)`` through :func:`atomic_path`; returns ``path``."""
    with atomic_path(path) as tmp:
        write(tmp)
    return os.fspath(path)


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """``data`` as indented JSON through :func:`atomic_path`."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(data, f, indent=2)


def replace_atomic(new: str, target: str) -> None:
    """Put the finished ``new`` (a file or a folder) at ``target`` in one rename. A folder
    at ``target``, or a file where ``new`` is a folder, cannot be renamed over: it is
    moved aside first, then removed (a reader sees the old one, none, or the new one)."""
    if not os.path.lexists(target) or not (os.path.isdir(new) or _is_folder(target)):
        os.replace(new, target)
        return
    aside = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(target)),
                             prefix=f"{TMP_PREFIX}old-")
    os.replace(target, os.path.join(aside, "old"))
    os.replace(new, target)
    shutil.rmtree(aside)


def _is_folder(path: str) -> bool:
    return os.path.isdir(path) and not os.path.islink(path)


def _remove(path: str) -> None:
    """Remove what a failed write left at ``path`` (nothing after a rename)."""
    if _is_folder(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


__all__ = ["TMP_PREFIX", "atomic_path", "atomic_write", "atomic_write_json", "replace_atomic"]
