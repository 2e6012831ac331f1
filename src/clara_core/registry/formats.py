"""Components picked by file format: the loader for a path, the writer for a format.

Loaders (transforms with ``is_loader``) and writers declare the formats they handle
in ``file_suffixes`` (and loaders of folders ``reads_folders``); the registry asks
each installed one and takes the one declaring the longest ending of the name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clara_core.errors import RegistryError
from clara_core.registry.discovery import Entry

#: what ``loader_for`` matches a folder with (a folder has no file ending)
FOLDER = "a folder"


def matching_suffix(name: str, suffixes: Sequence[str]) -> str | None:
    """The longest of ``suffixes`` that ``name`` ends with, regardless of case.

    >>> matching_suffix("/scans/CT.NII.GZ", (".nii", ".gz", ".nii.gz"))
    '.nii.gz'
    >>> matching_suffix("ct.mha", (".nii",)) is None
    True
    """
    lowered = name.lower()
    found = [s for s in suffixes if s and lowered.endswith(s.lower())]
    return max(found, key=len) if found else None


@dataclass(frozen=True)
class Candidate:
    """An installed component that handles a format, and the ending it matched."""

    entry: Entry
    cls: Any
    suffix: str


def best_candidate(found: Sequence[Candidate], label: str, name: str,
                   declared: Sequence[str]) -> Any:
    """The class of the candidate with the longest matching ending; an error naming
    the choices when none or several match."""
    if not found:
        known = ", ".join(sorted(set(declared))) or "none"
        what = "folders" if name == FOLDER else f"{name!r}"
        raise RegistryError(
            f"No installed {label} handles {what}: {label}s declare the formats they "
            f"handle in `file_suffixes` (installed ones handle: {known}). Install a "
            f"plugin with such a {label}, or convert the file to one of those formats.")
    longest = max(len(c.suffix) for c in found)
    best = [c for c in found if len(c.suffix) == longest]
    if len({c.entry.qualified_name for c in best}) > 1:
        names = ", ".join(f"{c.entry.name} ({c.entry.distribution})" for c in best)
        raise RegistryError(
            f"Several installed {label}s declare {best[0].suffix!r} in `file_suffixes`: "
            f"{names}; uninstall all but one of their plugins.")
    return best[0].cls


__all__ = ["FOLDER", "Candidate", "best_candidate", "matching_suffix"]
