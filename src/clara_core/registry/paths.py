"""``"path"`` components: importing a dotted path, under an optional trust policy."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clara_core.errors import RegistryError


@dataclass(frozen=True)
class Policy:
    """What a config may load.

    ``names_only`` refuses ``"path"`` components except those whose *resolved*
    object lives in one of ``trusted_modules`` (module names or package prefixes).

    >>> Policy(names_only=True, trusted_modules=("my_lab",)).trusts_module("my_lab.losses")
    True
    >>> Policy(names_only=True).trusts_module("os")
    False
    """

    names_only: bool = False
    trusted_modules: tuple[str, ...] = field(default_factory=tuple)

    def trusts_module(self, module: str) -> bool:
        if not self.names_only:
            return True
        return any(module == t or module.startswith(t + ".") for t in self.trusted_modules)

    @classmethod
    def from_environment(cls, names_only: bool = False) -> Policy:
        """Honour ``CLARA_NAMES_ONLY=1`` and ``CLARA_TRUSTED_MODULES=a,b`` (can only tighten)."""
        env_flag = os.environ.get("CLARA_NAMES_ONLY", "").lower() in ("1", "true", "yes")
        trusted = tuple(
            m.strip() for m in os.environ.get("CLARA_TRUSTED_MODULES", "").split(",") if m.strip()
        )
        return cls(names_only=names_only or env_flag, trusted_modules=trusted)


def shadowed_modules(folder: str) -> list[str]:
    """Top-level modules in ``folder`` whose names an installed module (or the
    standard library) already has: importing them would run the MMAR's copy instead."""
    import importlib.util

    names = set()
    for entry in os.listdir(folder):
        stem, ext = os.path.splitext(entry)
        if ext in (".py", ".pyc", ".so", ".pyd") or (
                not ext and os.path.isfile(os.path.join(folder, entry, "__init__.py"))):
            names.add(stem.split(".")[0])
    taken = []
    for name in sorted(names):
        if name in sys.builtin_module_names:
            taken.append(name)
            continue
        loaded = sys.modules.get(name)
        if loaded is not None:
            where = os.path.abspath(getattr(loaded, "__file__", None) or "")
            if not any(where.startswith(d + os.sep) for d in _CUSTOM_DIRS):
                taken.append(name)  # an installed module already imported
            continue
        try:
            spec = importlib.util.find_spec(name)  # finds, never executes, a top-level module
        except (ImportError, ValueError):
            continue
        origin = os.path.abspath(spec.origin or "") if spec is not None else ""
        if spec is not None and not origin.startswith(os.path.abspath(folder) + os.sep):
            taken.append(name)
    return taken


def add_search_path(folder: str) -> None:
    """Put ``folder`` (an MMAR's ``custom/``) on ``sys.path`` once, after everything
    installed, and refuse it when one of its modules has an installed module's name."""
    folder = os.path.abspath(folder)
    if not os.path.isdir(folder) or folder in sys.path:
        return
    taken = shadowed_modules(folder)
    if taken:
        raise RegistryError(
            f"The MMAR's {folder} has modules named like installed ones: "
            f"{', '.join(taken)}. They would replace the installed code, so clara refuses "
            f"the folder; rename those files (for example my_{taken[0]}.py) and the "
            "\"path\" entries that use them.")
    sys.path.append(folder)
    _CUSTOM_DIRS.add(folder)


#: custom/ folders added in this process (their modules are the MMARs', not installed)
_CUSTOM_DIRS: set[str] = set()


def split_path(path: str) -> tuple[str, str]:
    """``"pkg.mod.Class"`` or ``"pkg.mod:Class"`` -> (module, attribute).

    >>> split_path("myLoss.MyClonedDiceLoss"), split_path("a.b:C")
    (('myLoss', 'MyClonedDiceLoss'), ('a.b', 'C'))
    """
    module, sep, attr = path.partition(":")
    if not sep:
        module, _, attr = path.rpartition(".")
    if not module or not attr:
        raise RegistryError(
            f"Invalid component path {path!r}: expected 'module.Class' (a module on PYTHONPATH "
            "or in the MMAR's custom/ folder, then the class name)."
        )
    return module, attr


def describe_import_error(exc: BaseException) -> str:
    """The original error and the innermost frame it came from, on one line."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def import_path(path: str, policy: Policy = Policy(), search: Sequence[str] = ()) -> Any:
    """Import the object a ``"path"`` names, checking the policy before and after import."""
    module_name, attr = split_path(path)
    if policy.names_only and not policy.trusts_module(module_name):
        raise RegistryError(
            f"Refused path {path!r}: the names-only policy is on, so components must be "
            "referenced by 'name' from installed plugins (or live in a trusted module: "
            "CLARA_TRUSTED_MODULES)."
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            where = ", ".join(search) if search else "none"
            raise RegistryError(
                f"Cannot import {path!r}: no module named {exc.name!r} on PYTHONPATH or in the "
                f"MMAR's custom/ folder (searched custom folders: {where}). Put the file there "
                "or add its folder to PYTHONPATH."
            ) from exc
        raise RegistryError(
            f"Module {module_name!r} for path {path!r} failed to import: "
            f"{describe_import_error(exc)}"
        ) from exc
    except Exception as exc:
        raise RegistryError(
            f"Module {module_name!r} for path {path!r} failed to import: "
            f"{describe_import_error(exc)}"
        ) from exc
    try:
        obj = getattr(module, attr)
    except AttributeError:
        public = sorted(n for n in vars(module) if not n.startswith("_"))[:10]
        raise RegistryError(
            f"Module {module_name!r} ({getattr(module, '__file__', '?')}) has no {attr!r} "
            f"for path {path!r}; it defines: {', '.join(public) or 'nothing public'}."
        ) from None
    real_module = getattr(obj, "__module__", module_name) or module_name
    if not policy.trusts_module(real_module):
        raise RegistryError(
            f"Refused path {path!r}: it resolves to an object defined in {real_module!r}, "
            "which is not a trusted module under the names-only policy."
        )
    return obj
