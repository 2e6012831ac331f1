"""``Registry``: resolves a config's ``"name"`` or ``"path"`` to a component class."""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from clara_core.errors import RegistryError
from clara_core.registry.discovery import Entry, PluginEntry, discover, normalize_dist_name
from clara_core.registry.formats import FOLDER, Candidate, best_candidate, matching_suffix
from clara_core.registry.kinds import KINDS
from clara_core.registry.paths import Policy, add_search_path, describe_import_error, import_path
from clara_core.registry.renamed import renamed_hint
from clara_core.suggest import did_you_mean


class Registry:
    """Installed components by kind and name.

    ``paths`` limits discovery to those folders (default: ``sys.path``). Entry points
    are read from metadata on construction; pluggy plugins are loaded on first need;
    a component's module is imported only when it is resolved.
    """

    def __init__(self, paths: Sequence[str] | None = None, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._entries, self._plugin_entries = discover(paths)
        self._plugins_loaded = False
        self._plugin_manager: Any = None
        self._custom_dirs: list[str] = []
        self._cache: dict[tuple[str, str], Any] = {}

    # -- discovery -----------------------------------------------------------------

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        if not self._plugin_entries:
            return
        import pluggy

        from clara_core import hookspecs

        pm = self._plugin_manager = pluggy.PluginManager(hookspecs.PROJECT)
        pm.add_hookspecs(hookspecs)
        owners: dict[int, PluginEntry] = {}
        for plugin in self._plugin_entries:
            obj = self._import_entry(plugin.target, plugin.distribution, plugin.version,
                                     f"{plugin.name} = {plugin.target}", "clara.plugins")
            pm.register(obj, name=f"{plugin.distribution}:{plugin.name}")
            owners[id(obj)] = plugin
        for impl in pm.hook.clara_register_components.get_hookimpls():
            plugin = owners[id(impl.plugin)]
            specs: list[Any] = list(impl.function() or [])  # type: ignore[call-overload]
            for spec in specs:
                kind, name, target = spec
                if kind not in KINDS:
                    raise RegistryError(
                        f"Plugin {plugin.name} of {plugin.distribution} registers {name!r} as "
                        f"kind {kind!r}; expected one of {', '.join(KINDS)}."
                    )
                self._entries.append(
                    Entry(kind, name, target, plugin.distribution, plugin.version, "hook")
                )

    def plugin_manager(self) -> Any:
        """The pluggy ``PluginManager`` of the installed ``clara.plugins`` (their run-event
        hooks are called through it), or None when no plugin is installed. Each plugin
        is registered as ``"<distribution>:<entry point name>"``."""
        self._load_plugins()
        return self._plugin_manager

    def trackers(self) -> list[str]:
        """The experiment trackers installed plugins offer (``clara_trackers`` hooks)."""
        pm = self.plugin_manager()
        if pm is None:
            return []
        return sorted({name for names in pm.hook.clara_trackers() for name in names or ()})

    def entries(self, kind: str | None = None) -> list[Entry]:
        """All registered components (of one kind), sorted by kind and name."""
        self._load_plugins()
        found = [e for e in self._entries if kind is None or e.kind == kind]
        return sorted(found, key=lambda e: (e.kind, e.name.lower(), e.distribution))

    def names(self, kind: str) -> list[str]:
        return sorted({e.name for e in self.entries(kind)})

    def collisions(self) -> dict[tuple[str, str], list[Entry]]:
        """(kind, name) given by more than one distribution."""
        by_key: dict[tuple[str, str], list[Entry]] = defaultdict(list)
        for e in self.entries():
            by_key[(e.kind, e.name)].append(e)
        return {
            k: v for k, v in by_key.items() if len({e.distribution for e in v}) > 1
        }

    # -- resolution ----------------------------------------------------------------

    def add_custom_dir(self, folder: str) -> None:
        """Search an MMAR's ``custom/`` folder for ``"path"`` components."""
        add_search_path(folder)
        self._custom_dirs.append(folder)

    def find(self, kind: str, name: str) -> Entry:
        """The entry for ``name`` (or ``"distribution:Name"``) of ``kind``, or a clear error."""
        if kind not in KINDS:
            raise RegistryError(f"Unknown component kind {kind!r}; kinds: {', '.join(KINDS)}.")
        dist, sep, short = name.rpartition(":")
        candidates = [e for e in self.entries(kind) if e.name == (short if sep else name)]
        if sep:
            candidates = [e for e in candidates if e.distribution == normalize_dist_name(dist)]
        if len({e.distribution for e in candidates}) > 1:
            spelled = " or ".join(repr(e.qualified_name) for e in candidates)
            given = ", ".join(f"{e.distribution} {e.version}" for e in candidates)
            raise RegistryError(
                f"{KINDS[kind].label.capitalize()} name {name!r} is given by more than one "
                f"installed distribution ({given}); write {spelled} to pick one, or uninstall one."
            )
        if candidates:
            return candidates[0]
        raise RegistryError(self._unknown_message(kind, name))

    def _unknown_message(self, kind: str, name: str) -> str:
        label = KINDS[kind]
        short = name.rpartition(":")[2]
        msg = f"Unknown {label.label} {name!r} (searched entry-point group {label.group})."
        elsewhere = sorted({e.kind for e in self.entries() if e.name == short and e.kind != kind})
        if elsewhere:
            others = " and ".join(KINDS[k].article for k in elsewhere)
            return f"{msg} {short!r} is {others}, not {label.article}."
        hint = renamed_hint(kind, short) or did_you_mean(short, self.names(kind))
        if hint:
            return f"{msg} {hint[0].upper()}{hint[1:]}"
        installed = ", ".join(self.names(kind)[:8]) or "none installed"
        return (
            f"{msg} Installed {label.label} names: {installed}. Install the plugin that provides "
            "it, or reference your own class with \"path\"."
        )

    def resolve(self, kind: str, name: str) -> Any:
        """Import and return the class registered as ``name`` of ``kind``."""
        entry = self.find(kind, name)
        key = (kind, entry.qualified_name)
        if key not in self._cache:
            obj = entry.target
            if isinstance(obj, str):
                obj = self._import_entry(obj, entry.distribution, entry.version,
                                         f"{entry.name} = {obj}", KINDS[kind].group)
            self._cache[key] = obj
        return self._cache[key]

    # -- by file format ---------------------------------------------------------------

    def loader_for(self, path: str, folder: bool = False) -> Any:
        """The loader class (a transform with ``is_loader``) for ``path``: the one whose
        ``file_suffixes`` hold the longest ending of ``path``, or for a ``folder`` (a
        DICOM series) the one that ``reads_folders``. Build it with
        ``cls.for_field(field, dtype)``. Every installed transform is imported."""
        from clara_core.components.transform import Transformer

        loaders = [(e, cls) for e, cls in self._classes("transform", Transformer)
                   if cls.is_loader]
        if folder:
            found = [Candidate(e, cls, FOLDER) for e, cls in loaders if cls.reads_folders]
            return best_candidate(found, "loader", FOLDER, [])
        return self._by_suffix(loaders, "loader", path)

    def loader_suffixes(self) -> list[str]:
        """Every file ending the installed loaders declare (their ``file_suffixes``):
        the files ``clara infer`` takes from a folder."""
        from clara_core.components.transform import Transformer

        return sorted({s for _, cls in self._classes("transform", Transformer)
                       if cls.is_loader for s in cls.file_suffixes}, key=lambda s: (-len(s), s))

    def writer_for(self, suffix: str) -> Any:
        """The writer class whose ``file_suffixes`` hold ``suffix`` (``".nii.gz"``), to
        build with ``cls.for_field(...)``. Every installed writer is imported."""
        from clara_core.components.writer import Writer

        return self._by_suffix(self._classes("writer", Writer), "writer", suffix)

    def _classes(self, kind: str, base: type) -> list[tuple[Entry, Any]]:
        """Each installed component class of ``kind`` that derives from ``base``."""
        out = []
        for entry in self.entries(kind):
            cls = self.resolve(kind, entry.qualified_name)
            if isinstance(cls, type) and issubclass(cls, base):
                out.append((entry, cls))
        return out

    @staticmethod
    def _by_suffix(classes: list[tuple[Entry, Any]], label: str, name: str) -> Any:
        found = []
        for entry, cls in classes:
            suffix = matching_suffix(name, cls.file_suffixes)
            if suffix is not None:
                found.append(Candidate(entry, cls, suffix))
        declared = [s for _, cls in classes for s in cls.file_suffixes]
        return best_candidate(found, label, name, declared)

    def resolve_path(self, path: str) -> Any:
        """Import the object a config's ``"path"`` names (PYTHONPATH and custom/ folders)."""
        return import_path(path, self.policy, self._custom_dirs)

    @staticmethod
    def _import_entry(target: str, dist: str, version: str, spec: str, group: str) -> Any:
        module_name, _, attr = target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in filter(None, attr.split(".")):
                obj = getattr(obj, part)
        except Exception as exc:
            raise RegistryError(
                f"Plugin distribution {dist} {version} failed to load its entry point "
                f"'{spec}' (group {group}): {describe_import_error(exc)}. Reinstall or fix "
                f"that plugin, or uninstall it: pip uninstall {dist}."
            ) from exc
        return obj
