"""Reading component entry points from installed distributions' metadata only."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from clara_core.registry.kinds import GROUP_TO_KIND, PLUGIN_GROUP


def normalize_dist_name(name: str) -> str:
    """PEP 503 normalisation: ``Clara_Losses`` -> ``clara-losses``.

    >>> normalize_dist_name("Clara_Losses")
    'clara-losses'
    """
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Entry:
    """One registered component, known from metadata before anything is imported."""

    kind: str
    name: str
    target: Any  # "module:attr" string, or the object for hook-registered components
    distribution: str
    version: str
    source: str  # "entry point" or "hook"

    @property
    def qualified_name(self) -> str:
        """The spelling that picks this distribution's component when names collide."""
        return f"{self.distribution}:{self.name}"

    def describe(self) -> str:
        target = self.target if isinstance(self.target, str) else repr(self.target)
        return f"{self.name} = {target} ({self.source} of {self.distribution} {self.version})"


@dataclass(frozen=True)
class PluginEntry:
    name: str
    target: str
    distribution: str
    version: str


def _distributions(paths: Sequence[str] | None) -> Iterator[Any]:
    import importlib_metadata

    if paths is None:
        return iter(importlib_metadata.distributions())
    return iter(importlib_metadata.distributions(path=list(paths)))


def discover(paths: Sequence[str] | None = None) -> tuple[list[Entry], list[PluginEntry]]:
    """All ``clara.*`` entry points of the distributions on ``paths`` (default ``sys.path``).

    A distribution found twice on the path (first one wins, as Python imports it)
    is counted once. Only ``entry_points.txt`` is read, and the name and version of
    the few distributions that have ``clara.*`` entry points.
    """
    entries: list[Entry] = []
    plugins: list[PluginEntry] = []
    seen: set[str] = set()
    for dist in _distributions(paths):
        text = dist.read_text("entry_points.txt")
        if not text or "[clara." not in text:
            continue
        dist_name = normalize_dist_name(dist.metadata["Name"] or "unknown")
        if dist_name in seen:
            continue
        seen.add(dist_name)
        version = dist.version or "?"
        for ep in dist.entry_points:
            if ep.group == PLUGIN_GROUP:
                plugins.append(PluginEntry(ep.name, ep.value, dist_name, version))
            elif ep.group in GROUP_TO_KIND:
                kind = GROUP_TO_KIND[ep.group]
                entries.append(Entry(kind, ep.name, ep.value, dist_name, version, "entry point"))
    return entries, plugins
