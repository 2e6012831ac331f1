"""Atomic checkpoint files: write beside the target, then ``os.replace``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from typing import Any


def atomic_write_json(path: str, data: Any) -> None:
    """Write JSON so a reader sees the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(write: Callable[[str], Any], path: str) -> None:
    """``write(tmp)`` to a temporary file beside ``path`` (same suffix), then rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{os.path.basename(path)}")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_weights_atomic(model: Any, path: str) -> None:
    """``model.save_weights`` to a temporary ``.weights.h5`` file, then rename over ``path``."""
    atomic_save(model.save_weights, path)
