"""TensorFlow's start-up lines held to ``TF_CPP_MIN_LOG_LEVEL``.

TensorFlow 2.21 writes its native start-up logging (oneDNN notices, CUDA driver
probes, on a machine without a GPU an ``E`` line saying ``cuInit`` failed) to the
process's standard error before its logging is set up, whatever
``TF_CPP_MIN_LOG_LEVEL`` says. ``quiet_tensorflow_startup()`` keeps the level's
documented meaning for those lines: the first import of ``tensorflow`` (from any
module, ``keras`` included) and its device probe run with file descriptor 2 caught,
and the caught lines are written back except those the level hides (1: ``I`` lines,
2: ``W`` lines too, 3: ``E`` lines too; at 2 the failed ``cuInit`` of a machine with
no NVIDIA device, which is no error there). Nothing is imported until a command
imports TensorFlow, so commands that stop early stay fast.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any

#: TF's own default here: info and warnings hidden, errors shown
DEFAULT_LEVEL = "2"
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"
_NATIVE = re.compile(r"^([IWEF])\d{4} ")


def hidden(line: str, level: int, has_nvidia_device: bool) -> bool:
    """Whether TensorFlow's ``TF_CPP_MIN_LOG_LEVEL`` ``level`` hides this start-up line.

    >>> hidden("I0000 00:00:17.1 12 port.cc:153] oneDNN custom operations are on.", 2, False)
    True
    >>> cuinit = "E0000 00:00:17.1 12 cuda_platform.cc:52] failed call to cuInit: (303)"
    >>> hidden(cuinit, 2, False), hidden(cuinit, 2, True), hidden("a Python warning", 3, False)
    (True, False, False)
    """
    if line.startswith(_ABSL_PREAMBLE):
        return level >= 1
    match = _NATIVE.match(line)
    if match is None:
        return False
    severity = "IWEF".index(match.group(1))
    if severity < level:
        return True
    return level >= 2 and not has_nvidia_device and "failed call to cuInit" in line


@contextmanager
def _caught_stderr(level: int) -> Iterator[None]:
    """Descriptor 2 into a temporary file for the block; its lines written back to the
    real standard error, less those ``level`` hides."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            nvidia = os.path.exists("/dev/nvidia0") or os.path.exists("/dev/nvidiactl")
            kept = [line for line in caught.read().decode(errors="replace").splitlines(True)
                    if not hidden(line, level, nvidia)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietLoader(importlib.abc.Loader):
    """TensorFlow's own loader, run with start-up lines caught (see the module)."""

    def __init__(self, inner: importlib.abc.Loader, level: int) -> None:
        self.inner, self.level = inner, level

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with _caught_stderr(self.level):
            self.inner.exec_module(module)
            try:  # the CUDA probe prints here; whatever it raises, TensorFlow is imported
                module.config.list_physical_devices()
            except Exception:  # noqa: BLE001 - a probe, not the import
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _FirstImportFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, with :class:`_QuietLoader` around its loader."""

    def __init__(self, level: int) -> None:
        self.level = level

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self.level)
        return spec


def quiet_tensorflow_startup() -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL`` to 2 unless given, and hold TensorFlow's start-up
    lines to it when TensorFlow is first imported (a no-op once it is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LEVEL)
    try:
        level = int(os.environ["TF_CPP_MIN_LOG_LEVEL"])
    except ValueError:
        return
    if level < 1 or "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _FirstImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FirstImportFinder(level))
