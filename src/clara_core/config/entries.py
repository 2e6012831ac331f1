"""Walking a config's component entries: where they are, and whether each is well formed.

A train config keeps its components in the ``train`` and ``validate`` sections, a
validation config at the top level (:mod:`clara_core.config.sections`). :func:`walk`
visits every section, checks each entry's form (``name`` or ``path``, ``args``,
``disabled``, ``ref``) and returns the well-formed entries with their JSON locations,
and the config's shape, which :func:`assemble` fills with the created components.

>>> problems = []
>>> entries, shapes = walk({"loss": {"name": "Dice"}, "pre_transforms": [{"ref": "a"}]},
...                        {"": {"loss": Section("loss", False),
...                              "pre_transforms": Section("transform", True)}}, problems)
>>> [(e.loc, e.kind) for e in entries], problems
([(('loss',), 'loss'), (('pre_transforms', 0), 'transform')], [])
>>> shapes
{'': {'loss': ('loss',), 'pre_transforms': [('pre_transforms', 0)]}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clara_core.config.jsonio import Loc, problem_at
from clara_core.config.loader import DISABLED
from clara_core.config.sections import (
    ENTRY_KEYS,
    EVAL_SECTIONS,
    TRAIN_SECTIONS,
    VALIDATE_SECTIONS,
    Section,
)
from clara_core.errors import Problem
from clara_core.registry.kinds import KINDS
from clara_core.suggest import did_you_mean

REQUIRED_TRAIN = ("model", "loss", "optimizer", "image_pipeline")


@dataclass
class Entry:
    """One component entry: its place, kind and spec; its alias and, once created (or
    its ref resolved), its instance."""

    loc: Loc
    kind: str
    spec: dict[str, Any]
    alias: str | None = None
    explicit_alias: bool = False
    instance: Any = None


def layout(is_eval: bool) -> dict[str, dict[str, Section]]:
    """Where the components are: at the top (``""``, validation configs) or in sections."""
    if is_eval:
        return {"": EVAL_SECTIONS}
    return {"train": TRAIN_SECTIONS, "validate": VALIDATE_SECTIONS}


def walk(cfg: dict[str, Any], sections_of: dict[str, dict[str, Section]],
         problems: list[Problem]) -> tuple[list[Entry], dict[str, dict[str, Any]]]:
    """The well-formed entries of ``cfg`` and its shape: for each section, each key's
    entry location (a list of them for a list section); problems for the others."""
    entries: list[Entry] = []
    shapes: dict[str, dict[str, Any]] = {}
    for section, sections in sections_of.items():
        node = cfg if section == "" else cfg.get(section)
        if section and node is None:
            if section == "train":
                problems.append(problem_at(("train",), "missing the 'train' section",
                                           "a train config needs train.model, loss, "
                                           "optimizer and image_pipeline"))
            continue
        if not isinstance(node, dict):
            problems.append(problem_at((section,), f"expected an object, received "
                                       f"{type(node).__name__}"))
            continue
        if section:
            _check_section_keys(node, sections, (section,), problems)
        shapes[section] = _collect(node, sections, (section,) if section else (), entries,
                                   problems)
    if "train" in shapes:
        for key in REQUIRED_TRAIN:
            if key not in cfg["train"]:
                problems.append(problem_at(("train", key),
                                           f"missing; a train config needs train.{key}"))
    return entries, shapes


def assemble(shapes: dict[str, dict[str, Any]],
             entries: list[Entry]) -> dict[str, dict[str, Any]]:
    """The entries' instances in the config's shape (``walk``'s ``shapes``)."""
    by_loc = {e.loc: e.instance for e in entries}
    return {section: {key: [by_loc[loc] for loc in locs] if isinstance(locs, list)
                      else by_loc[locs] for key, locs in shape.items()}
            for section, shape in shapes.items()}


def _check_section_keys(node: dict[str, Any], sections: dict[str, Section], loc: Loc,
                        problems: list[Problem]) -> None:
    for key in node:
        if key not in sections:
            problems.append(problem_at((*loc, key), f"unknown section {key!r}",
                                       did_you_mean(key, sections) or
                                       f"sections here: {', '.join(sections)}"))


def _collect(node: dict[str, Any], sections: dict[str, Section], loc: Loc,
             entries: list[Entry], problems: list[Problem]) -> dict[str, Any]:
    shape: dict[str, Any] = {}
    for key, section in sections.items():
        if key not in node:
            continue
        value = node[key]
        if section.is_list:
            if not isinstance(value, list):
                problems.append(problem_at((*loc, key), f"expected a list of "
                                           f"{KINDS[section.kind].label} entries, received "
                                           f"{type(value).__name__}"))
                continue
            locs: list[Loc] = []
            for i, item in enumerate(value):
                if item == DISABLED:  # "disabled": true, dropped by the loader
                    continue
                if check_entry(item, (*loc, key, i), section.kind, problems):
                    entries.append(Entry((*loc, key, i), section.kind, item))
                    locs.append((*loc, key, i))
            shape[key] = locs
        elif check_entry(value, (*loc, key), section.kind, problems):
            entries.append(Entry((*loc, key), section.kind, value))
            shape[key] = (*loc, key)
    return shape


def check_entry(spec: Any, loc: Loc, kind: str, problems: list[Problem]) -> bool:
    """Whether ``spec`` is a well-formed entry of ``kind``; problems say why not."""
    label = KINDS[kind].label
    if not isinstance(spec, dict):
        problems.append(problem_at(loc, f"expected a {label} entry {{\"name\": ..., "
                                   f"\"args\": {{...}}}}, received {spec!r}"))
        return False
    ok = True
    for key in spec:
        if key not in ENTRY_KEYS:
            problems.append(problem_at((*loc, key), f"unknown key {key!r} in a {label} entry",
                                       did_you_mean(key, ENTRY_KEYS) or
                                       f"entry keys are {', '.join(ENTRY_KEYS)}"))
            ok = False
    if "ref" in spec:
        if not isinstance(spec["ref"], str):
            problems.append(problem_at((*loc, "ref"), f"expected an alias string, received "
                                       f"{spec['ref']!r}"))
            ok = False
        return ok
    if "name" not in spec and "path" not in spec:
        problems.append(problem_at(loc, f"a {label} entry needs \"name\" (an installed "
                                   "component) or \"path\" (module.Class)"))
        return False
    return _check_values(spec, loc, problems) and ok


def _check_values(spec: dict[str, Any], loc: Loc, problems: list[Problem]) -> bool:
    """The types of an entry's ``name``, ``path``, ``args`` and ``disabled``."""
    ok = True
    for key in ("name", "path"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key]):
            problems.append(problem_at((*loc, key), f"expected a non-empty string, received "
                                       f"{spec[key]!r}"))
            ok = False
    if "args" in spec and not isinstance(spec["args"], dict):
        problems.append(problem_at((*loc, "args"), f"expected an object of arguments, "
                                   f"received {spec['args']!r}"))
        ok = False
    if "disabled" in spec and not isinstance(spec["disabled"], bool):
        problems.append(problem_at((*loc, "disabled"), f"expected true or false, received "
                                   f"{spec['disabled']!r}"))
        ok = False
    return ok


__all__ = ["REQUIRED_TRAIN", "Entry", "assemble", "check_entry", "layout", "walk"]
