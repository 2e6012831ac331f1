"""Resolving, checking and creating every component of a config, all problems at once.

This is the seed's "create" phase: each entry's class is found (``name`` through the
registry, ``path`` by import), its ``args`` are checked against the constructor and
the component is constructed. Nothing here imports TensorFlow or reads image data;
``clara config check`` and ``clara train`` share this code.

The builder runs the parts in order, each adding its problems to one list:
the settings (:mod:`~clara_core.config.settings`), walking the entries
(:mod:`~clara_core.config.entries`), aliases and refs (:mod:`~clara_core.config.refs`),
the SDK's argument vocabulary (:mod:`~clara_core.config.sdk_args`), the constructor
signature (:mod:`~clara_core.config.signature`) and the names-only write sandbox
(:mod:`~clara_core.config.sandbox`).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field, replace
from typing import Any

from clara_core.components.base import Component
from clara_core.config.automl import check_search_space, default_choices, search_notice
from clara_core.config.comments import comments_notice
from clara_core.config.consistency import check_consistency
from clara_core.config.datalist import check_datalist
from clara_core.config.entries import Entry, assemble, layout, walk
from clara_core.config.jsonio import Loc, format_location, problem_at
from clara_core.config.loader import LoadedConfig
from clara_core.config.refs import assign_aliases, resolve_refs
from clara_core.config.sandbox import check_run_folders, resolve_outputs
from clara_core.config.sdk_args import constructor_args
from clara_core.config.sections import OUT_OF_SCOPE, Section
from clara_core.config.settings import (
    NO_EFFECT,
    EvalSettings,
    TrainSettings,
    no_effect_keys,
    parse_settings,
)
from clara_core.config.signature import check_args
from clara_core.errors import ClaraError, ConfigError, Problem
from clara_core.registry.kinds import KINDS
from clara_core.registry.registry import Registry
from clara_core.suggest import did_you_mean


@dataclass
class BuiltConfig:
    """The created components, in the config's own shape, and the typed settings.

    ``sections["train"]["loss"]`` is a component, ``sections["train"]["pre_transforms"]``
    a list; a validation config keeps its sections at the top (``sections[""]``).
    ``settings`` is a :class:`TrainSettings` or an :class:`EvalSettings`; ``notices``
    are lines to show before a run (keys accepted without effect).
    """

    loaded: LoadedConfig
    settings: TrainSettings | EvalSettings
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    #: the registry that resolved the components (its plugins hear the run's events)
    registry: Registry | None = None

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.sections.get(section, {}).get(key, default)


class ConfigBuilder:
    """Builds a :class:`BuiltConfig` from a :class:`LoadedConfig` (raises ConfigError)."""

    def __init__(self, registry: Registry, check_data: bool = True) -> None:
        self.registry = registry
        self.check_data = check_data  # False: do not look for the datalists (clara infer)
        self.problems: list[Problem] = []
        self.notices: list[str] = []
        self._no_effect: list[str] = []  # "location (why)" of keys accepted without effect

    def build(self, loaded: LoadedConfig) -> BuiltConfig:
        self.problems, self.notices, self._no_effect = [], [], []
        sections_of = layout(loaded.is_eval)
        cfg, searched = default_choices(loaded.config, sections_of)
        if loaded.comments:
            self.notices.append(comments_notice(loaded.comments))
        if searched:
            self.notices.append(search_notice(searched))
        for key, why in OUT_OF_SCOPE.items():
            if key in cfg:
                self.problems.append(problem_at((key,), why))
        settings_cls: type[TrainSettings | EvalSettings] = \
            EvalSettings if loaded.is_eval else TrainSettings
        settings = self._settings(settings_cls, cfg, sections_of)
        self._apply_policy(settings, loaded)
        self._check_trackers(settings)

        entries, shapes = walk(cfg, sections_of, self.problems)
        check_run_folders(loaded, self.registry.policy.names_only, self.problems)
        assign_aliases(entries, self.problems)
        for entry in entries:
            if "ref" not in entry.spec:
                entry.instance = self._create(entry, loaded)
        resolve_refs(entries, self.problems)
        if searched:  # every malformed search item, at its JSON location
            check_search_space(loaded.config, sections_of,
                               {e.loc: type(e.instance) for e in entries if e.instance is not None},
                               self.problems)
        if not self.problems:  # every component created: what they must agree on
            self.problems += check_consistency(shapes, entries, loaded.path_in_mmar,
                                               self.check_data)
        if self.problems:
            raise ConfigError(self.problems, loaded.config_path)
        self._no_effect[:0] = no_effect_keys(settings_cls, cfg)
        return BuiltConfig(loaded, settings, assemble(shapes, entries), self._notices(),
                           self.registry)

    def create(self, kind: str, spec: dict[str, Any], loaded: LoadedConfig,
               loc: Loc = ()) -> Any:
        """One component from its config entry (``{"name": ..., "args": {...}}``), as
        a config's would be; raises :class:`ConfigError` with its problems."""
        self.problems, self.notices, self._no_effect = [], [], []
        instance = self._create(Entry(loc or (kind,), kind, spec), loaded)
        if self.problems:
            raise ConfigError(self.problems, loaded.config_path)
        self.notices = self._notices()
        return instance

    # -- settings and policy -----------------------------------------------------------

    def _settings(self, settings_cls: type[TrainSettings | EvalSettings], cfg: dict[str, Any],
                  sections_of: dict[str, dict[str, Section]]) -> TrainSettings | EvalSettings:
        """The config's top-level settings; keys no setting has become a notice."""
        # the keys holding components: a validation config's sections, or train and validate
        not_settings = [*sections_of.get("", sections_of), *OUT_OF_SCOPE]
        ignored: list[str] = []
        settings: TrainSettings | EvalSettings = parse_settings(
            settings_cls, cfg, (), self.problems, not_settings, ignored)
        if ignored:
            self.notices.append(f"ignored, no clara setting has these names: {', '.join(ignored)}")
        return settings

    def _check_trackers(self, settings: TrainSettings | EvalSettings) -> None:
        """Each tracker the run asks for is offered by an installed plugin."""
        if not settings.tracking:
            return
        offered = self.registry.trackers()
        for i, name in enumerate(settings.tracking):
            if name not in offered:
                hint = did_you_mean(name, offered) or (
                    f"installed trackers: {', '.join(offered)}" if offered else
                    "no tracking plugin is installed; pip install clara-mlflow for mlflow")
                self.problems.append(problem_at(("tracking", i), f"unknown tracker {name!r}",
                                                hint))

    def _apply_policy(self, settings: TrainSettings | EvalSettings,
                      loaded: LoadedConfig) -> None:
        """A names-only config turns the registry's policy on; otherwise the MMAR's
        ``custom/`` folder is importable."""
        if settings.names_only:
            self.registry.policy = replace(self.registry.policy, names_only=True)
        custom = os.path.join(loaded.mmar_root, "custom")
        if os.path.isdir(custom) and not self.registry.policy.names_only:
            try:  # names-only imports nothing the MMAR ships
                self.registry.add_custom_dir(custom)
            except ClaraError as exc:
                self.problems.append(Problem("", str(exc)))

    def _notices(self) -> list[str]:
        """The notices, the keys accepted without effect all in one line."""
        return self.notices + ([NO_EFFECT + "; ".join(self._no_effect)]
                               if self._no_effect else [])

    # -- creating one component --------------------------------------------------------

    def _create(self, entry: Entry, loaded: LoadedConfig) -> Any:
        found = self._component_class(entry)
        if found is None:
            return None
        cls, label = found
        loc = entry.loc
        before = len(self.problems)
        args = constructor_args(cls, label, entry.spec.get("args", {}), loc, self.problems,
                                self._no_effect)
        if args is None:
            return None
        self.problems.extend(check_args(cls, label, args, format_location((*loc, "args"))))
        if len(self.problems) > before:
            return None
        args = resolve_outputs(cls, args, loc, loaded, self.registry.policy.names_only,
                               self.problems)
        if entry.kind == "pipeline" and self.check_data and \
                isinstance(args.get("data_list_file_path"), str):
            self.problems.extend(_check_pipeline_data(args, loc, loaded))
        try:
            return cls(**args)
        except Exception as exc:
            self.problems.append(problem_at((*loc, "args"), f"{label} rejected its arguments: "
                                            f"{type(exc).__name__}: {exc}"))
            return None

    def _component_class(self, entry: Entry) -> tuple[type[Component], str] | None:
        """The entry's class and its label ("loss Dice"); None (and a problem) when it
        cannot be found or is no component of the entry's kind."""
        spec, loc, kind = entry.spec, entry.loc, entry.kind
        try:
            if "path" in spec:
                cls = self.registry.resolve_path(spec["path"])
                label = f"{KINDS[kind].label} {spec['path']}"
                where = (*loc, "path")
            else:
                name = spec["name"].partition("#")[0]
                cls = self.registry.resolve(kind, name)
                label = f"{KINDS[kind].label} {name}"
                where = (*loc, "name")
        except ClaraError as exc:
            self.problems.append(problem_at((*loc, "path" if "path" in spec else "name"),
                                            str(exc)))
            return None
        base = _import_base(kind)
        if isinstance(cls, type) and issubclass(cls, base):
            return cls, label
        # only a component class is ever called: never a function, whatever it does
        what = "class" if isinstance(cls, type) else type(cls).__name__
        name = spec.get("path") or \
            f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"
        self.problems.append(problem_at(
            where, f"{name} is not {KINDS[kind].article} component: it must derive from "
            f"clara_core.{base.__name__}", "" if what == "class" else f"it is a {what}, and "
            "clara only constructs component classes from a config"))
        return None


def _check_pipeline_data(args: dict[str, Any], loc: Loc,
                         loaded: LoadedConfig) -> list[Problem]:
    """The datalist a pipeline names, and the files it lists."""
    path = loaded.path_in_mmar(args["data_list_file_path"])
    base = args.get("data_file_base_dir")
    base_dir = loaded.path_in_mmar(base) if isinstance(base, str) else os.path.dirname(path)
    key = args.get("data_list_key", "training")
    return check_datalist(path, base_dir, key if isinstance(key, str) else "training",
                          format_location((*loc, "args", "data_list_file_path")))


def _import_base(kind: str) -> type[Component]:
    """The base class of ``kind`` (every kind's base is a :class:`Component`)."""
    module, _, name = KINDS[kind].base.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def build_config(loaded: LoadedConfig, registry: Registry | None = None,
                 check_data: bool = True) -> BuiltConfig:
    """Create every component of ``loaded`` (raises :class:`ConfigError` with all problems);
    ``check_data=False`` skips looking for the pipelines' datalists."""
    return ConfigBuilder(registry or Registry(), check_data).build(loaded)


__all__ = ["BuiltConfig", "ConfigBuilder", "ConfigError", "build_config"]
