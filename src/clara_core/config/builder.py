"""Resolving, checking and creating every component of a config, all problems at once.

This is the seed's "create" phase: each entry's class is found (``name`` through the
registry, ``path`` by import), its ``args`` are checked against the constructor and
the component is constructed. Nothing here imports TensorFlow or reads image data;
``clara config check`` and ``clara train`` share this code.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field, replace
from typing import Any

from clara_core.components.base import Component
from clara_core.config.argcheck import check_args
from clara_core.config.automl import default_choices, search_notice
from clara_core.config.datalist import check_datalist
from clara_core.config.jsonio import format_location
from clara_core.config.loader import DISABLED, LoadedConfig
from clara_core.config.sections import (
    ENTRY_KEYS,
    EVAL_SECTIONS,
    OUT_OF_SCOPE,
    TRAIN_SECTIONS,
    VALIDATE_SECTIONS,
    Section,
)
from clara_core.config.settings import (
    NO_EFFECT,
    EvalSettings,
    TrainSettings,
    no_effect_keys,
    parse_settings,
)
from clara_core.errors import ClaraError, ConfigError, Problem
from clara_core.registry.kinds import KINDS
from clara_core.registry.registry import Registry
from clara_core.suggest import did_you_mean

REQUIRED_TRAIN = ("model", "loss", "optimizer", "image_pipeline")

Loc = tuple[str | int, ...]


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

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.sections.get(section, {}).get(key, default)


@dataclass
class _Entry:
    loc: Loc
    kind: str
    spec: dict[str, Any]
    alias: str | None = None
    explicit_alias: bool = False
    instance: Any = None


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
        # where the components are: at the top (validation configs) or in sections
        layout: dict[str, dict[str, Section]] = (
            {"": EVAL_SECTIONS} if loaded.is_eval
            else {"train": TRAIN_SECTIONS, "validate": VALIDATE_SECTIONS})
        cfg, searched = default_choices(loaded.config, layout)
        if searched:
            self.notices.append(search_notice(searched))
        for key, why in OUT_OF_SCOPE.items():
            if key in cfg:
                self._problem((key,), why)
        settings_cls: type[TrainSettings | EvalSettings] = \
            EvalSettings if loaded.is_eval else TrainSettings
        not_settings = [*(EVAL_SECTIONS if loaded.is_eval else layout), *OUT_OF_SCOPE]
        ignored: list[str] = []
        settings: TrainSettings | EvalSettings = parse_settings(
            settings_cls, cfg, (), self.problems, not_settings, ignored)
        if ignored:
            self.notices.append(f"ignored, no clara setting has these names: {', '.join(ignored)}")
        if settings.names_only:
            self.registry.policy = replace(self.registry.policy, names_only=True)
        custom = os.path.join(loaded.mmar_root, "custom")
        if os.path.isdir(custom) and not self.registry.policy.names_only:
            try:  # names-only imports nothing the MMAR ships
                self.registry.add_custom_dir(custom)
            except ClaraError as exc:
                self.problems.append(Problem("", str(exc)))

        entries: list[_Entry] = []
        shapes: dict[str, dict[str, Any]] = {}
        for section, sections in layout.items():
            node = cfg if section == "" else cfg.get(section)
            if section and node is None:
                if section == "train":
                    self._problem(("train",), "missing the 'train' section",
                                  "a train config needs train.model, loss, optimizer and "
                                  "image_pipeline")
                continue
            if not isinstance(node, dict):
                self._problem((section,), f"expected an object, received {type(node).__name__}")
                continue
            if section:
                self._check_section_keys(node, sections, (section,))
            shapes[section] = self._collect(node, sections, (section,) if section else (),
                                            entries)
        if "train" in shapes:
            for key in REQUIRED_TRAIN:
                if key not in cfg["train"]:
                    self._problem(("train", key), f"missing; a train config needs train.{key}")

        self._check_run_folders(loaded)
        self._assign_aliases(entries)
        for entry in entries:
            if "ref" not in entry.spec:
                entry.instance = self._create(entry, loaded)
        self._resolve_refs(entries)
        if self.problems:
            raise ConfigError(self.problems, loaded.config_path)
        self._no_effect[:0] = no_effect_keys(settings_cls, cfg)
        built = BuiltConfig(loaded, settings, notices=self._notices())
        by_loc = {e.loc: e.instance for e in entries}
        for section, shape in shapes.items():
            built.sections[section] = {
                key: [by_loc[loc] for loc in locs] if isinstance(locs, list) else by_loc[locs]
                for key, locs in shape.items()
            }
        return built

    # -- structure -------------------------------------------------------------------

    def _problem(self, loc: Loc, message: str, hint: str = "") -> None:
        self.problems.append(Problem(format_location(loc), message, hint))

    def _check_section_keys(self, node: dict[str, Any], sections: dict[str, Section],
                            loc: Loc) -> None:
        for key in node:
            if key not in sections:
                self._problem((*loc, key), f"unknown section {key!r}",
                              did_you_mean(key, sections) or
                              f"sections here: {', '.join(sections)}")

    def _collect(self, node: dict[str, Any], sections: dict[str, Section], loc: Loc,
                 entries: list[_Entry]) -> dict[str, Any]:
        shape: dict[str, Any] = {}
        for key, section in sections.items():
            if key not in node:
                continue
            value = node[key]
            if section.is_list:
                if not isinstance(value, list):
                    self._problem((*loc, key), f"expected a list of {KINDS[section.kind].label} "
                                  f"entries, received {type(value).__name__}")
                    continue
                locs: list[Loc] = []
                for i, item in enumerate(value):
                    if item == DISABLED:  # "disabled": true, dropped by the loader
                        continue
                    if self._check_entry(item, (*loc, key, i), section.kind):
                        entries.append(_Entry((*loc, key, i), section.kind, item))
                        locs.append((*loc, key, i))
                shape[key] = locs
            elif self._check_entry(value, (*loc, key), section.kind):
                entries.append(_Entry((*loc, key), section.kind, value))
                shape[key] = (*loc, key)
        return shape

    def _check_entry(self, spec: Any, loc: Loc, kind: str) -> bool:
        label = KINDS[kind].label
        if not isinstance(spec, dict):
            self._problem(loc, f"expected a {label} entry {{\"name\": ..., \"args\": {{...}}}}, "
                          f"received {spec!r}")
            return False
        ok = True
        for key in spec:
            if key not in ENTRY_KEYS:
                self._problem((*loc, key), f"unknown key {key!r} in a {label} entry",
                              did_you_mean(key, ENTRY_KEYS) or
                              f"entry keys are {', '.join(ENTRY_KEYS)}")
                ok = False
        if "ref" in spec:
            if not isinstance(spec["ref"], str):
                self._problem((*loc, "ref"), f"expected an alias string, received {spec['ref']!r}")
                ok = False
            return ok
        if "name" not in spec and "path" not in spec:
            self._problem(loc, f"a {label} entry needs \"name\" (an installed component) or "
                          "\"path\" (module.Class)")
            return False
        for key in ("name", "path"):
            if key in spec and (not isinstance(spec[key], str) or not spec[key]):
                self._problem((*loc, key), f"expected a non-empty string, received {spec[key]!r}")
                ok = False
        if "args" in spec and not isinstance(spec["args"], dict):
            self._problem((*loc, "args"), f"expected an object of arguments, received "
                          f"{spec['args']!r}")
            ok = False
        if "disabled" in spec and not isinstance(spec["disabled"], bool):
            self._problem((*loc, "disabled"), f"expected true or false, received "
                          f"{spec['disabled']!r}")
            ok = False
        return ok

    # -- aliases and refs ------------------------------------------------------------

    def _assign_aliases(self, entries: list[_Entry]) -> None:
        explicit: dict[str, _Entry] = {}
        for e in entries:
            if "ref" in e.spec:
                continue
            name = e.spec.get("name") or e.spec["path"].replace(":", ".").rpartition(".")[2]
            base, sep, alias = name.partition("#")
            if sep:
                if not alias:
                    self._problem((*e.loc, "name"), f"empty alias in {name!r}",
                                  "write \"Name#alias\" or just \"Name\"")
                    continue
                if alias in explicit:
                    self._problem((*e.loc, "name"), f"alias {alias!r} is already used at "
                                  f"{format_location(explicit[alias].loc)}",
                                  "give each \"Name#alias\" a distinct alias")
                    continue
                explicit[alias] = e
                e.alias, e.explicit_alias = alias, True
            else:
                e.alias = base

    def _resolve_refs(self, entries: list[_Entry]) -> None:
        for e in entries:
            if "ref" not in e.spec:
                continue
            ref = e.spec["ref"]
            targets = [t for t in entries if t.alias == ref and "ref" not in t.spec]
            explicit = [t for t in targets if t.explicit_alias]
            targets = explicit or targets
            kinds = {t.kind for t in targets}
            if not targets:
                aliases = sorted({t.alias for t in entries if t.alias})
                self._problem((*e.loc, "ref"), f"dangling ref {ref!r}: no component has that "
                              "alias", did_you_mean(ref, aliases) or
                              "name the target \"Name#alias\" and refer to the alias")
            elif len(targets) > 1:
                places = ", ".join(format_location(t.loc) for t in targets)
                self._problem((*e.loc, "ref"), f"ambiguous ref {ref!r}: it matches {places}",
                              "give the one you mean an alias, \"Name#alias\", and ref that")
            elif e.kind not in kinds:
                t = targets[0]
                self._problem((*e.loc, "ref"), f"ref {ref!r} points to {KINDS[t.kind].article} "
                              f"at {format_location(t.loc)}, but {KINDS[e.kind].article} is "
                              "expected here")
            else:
                e.instance = targets[0].instance

    # -- creating one component ------------------------------------------------------

    def _create(self, entry: _Entry, loaded: LoadedConfig) -> Any:
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
            self._problem((*loc, "path" if "path" in spec else "name"), str(exc))
            return None
        base = _import_base(kind)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            # only a component class is ever called: never a function, whatever it does
            what = "class" if isinstance(cls, type) else type(cls).__name__
            name = spec.get("path") or \
                f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}"
            self._problem(where, f"{name} is not {KINDS[kind].article} component: it must "
                          f"derive from clara_core.{base.__name__}",
                          "" if what == "class" else f"it is a {what}, and clara only "
                          "constructs component classes from a config")
            return None
        args = self._renamed(cls, spec.get("args", {}), loc)
        if args is None:
            return None
        # an argument without effect is named in the notice and not passed on: the
        # class declares it (no_effect_args) and need not take it
        no_effect = getattr(cls, "no_effect_args", {})
        self._no_effect.extend(f"{format_location((*loc, 'args', k))} ({no_effect[k]})"
                               for k in args if k in no_effect)
        args = {k: v for k, v in args.items() if k not in no_effect}
        refused = [(key, works, why) for key, (works, why) in
                   getattr(cls, "refused_args", {}).items()
                   if key in args and args.pop(key) != works]
        for key, works, why in refused:
            self._problem((*loc, "args", key), f"{label} works only with {key} "
                          f"{json.dumps(works)} here: {why}")
        problems = check_args(cls, label, args, format_location((*loc, "args")))
        if problems or refused:
            self.problems.extend(problems)
            return None
        args = self._resolve_outputs(cls, args, loc, loaded)
        if kind == "pipeline" and self.check_data and \
                isinstance(args.get("data_list_file_path"), str):
            self.problems.extend(self._check_pipeline_data(args, loc, loaded))
        try:
            return cls(**args)
        except Exception as exc:
            self._problem((*loc, "args"), f"{label} rejected its arguments: "
                          f"{type(exc).__name__}: {exc}")
            return None

    def _renamed(self, cls: type, args: dict[str, Any], loc: Loc) -> dict[str, Any] | None:
        """``args`` with the SDK's names of ``cls.sdk_aliases`` renamed; None (and a
        problem) when both names of one argument are given."""
        aliases = getattr(cls, "sdk_aliases", {})
        out: dict[str, Any] = {}
        for key, value in args.items():
            name = aliases.get(key, key)
            if name in out:
                self._problem((*loc, "args", key), f"{key!r} and {name!r} are the same "
                              "argument", f"give only one of {key!r} and {name!r}")
                return None
            out[name] = value
        return out

    def create(self, kind: str, spec: dict[str, Any], loaded: LoadedConfig,
               loc: Loc = ()) -> Any:
        """One component from its config entry (``{"name": ..., "args": {...}}``), as
        a config's would be; raises :class:`ConfigError` with its problems."""
        self.problems, self.notices, self._no_effect = [], [], []
        instance = self._create(_Entry(loc or (kind,), kind, spec), loaded)
        if self.problems:
            raise ConfigError(self.problems, loaded.config_path)
        self.notices = self._notices()
        return instance

    def _notices(self) -> list[str]:
        """The notices, the keys accepted without effect all in one line."""
        return self.notices + ([NO_EFFECT + "; ".join(self._no_effect)]
                               if self._no_effect else [])

    def _resolve_outputs(self, cls: type, args: dict[str, Any], loc: Loc,
                         loaded: LoadedConfig) -> dict[str, Any]:
        """The component's output paths (``cls.output_args``) resolved against the MMAR;
        under names-only, a path outside the MMAR and the command line's folders is a
        problem."""
        resolved = dict(args)
        for name in getattr(cls, "output_args", ()):
            value = args.get(name)
            if not isinstance(value, str) or not value:
                continue
            resolved[name] = loaded.path_in_mmar(value)
            if self.registry.policy.names_only and not loaded.may_write(value):
                self._problem((*loc, "args", name), f"writes to {resolved[name]}, outside the "
                              f"MMAR {loaded.mmar_root}; a names-only config writes only "
                              "inside its MMAR", "use a path inside the MMAR, or name the "
                              "folder on the command line (--set)")
        return resolved

    def _check_run_folders(self, loaded: LoadedConfig) -> None:
        """Under names-only, the run's folders from the environment stay inside too."""
        if not self.registry.policy.names_only:
            return
        for key in ("MMAR_CKPT_DIR", "MMAR_EVAL_OUTPUT_PATH"):
            value = loaded.env.get(key)
            if isinstance(value, str) and value and not loaded.may_write(value):
                self.problems.append(Problem(
                    f"environment {key}", f"{value!r} is outside the MMAR "
                    f"{loaded.mmar_root}; a names-only config writes only inside its MMAR",
                    f"use a folder inside the MMAR, or give it with --set {key}=..."))

    @staticmethod
    def _check_pipeline_data(args: dict[str, Any], loc: Loc,
                             loaded: LoadedConfig) -> list[Problem]:
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
