"""A JSON Schema of ``train_config.json`` from the installed components.

Every registered component becomes a definition: its ``name`` (plain, with
``#alias`` or ``dist:`` prefix), its ``args`` from the constructor's signature
(JSON types from the annotations, defaults, required arguments, descriptions from
the docstring's ``Args:`` section) and no other arguments, so an editor completes
names and arguments and flags misspellings. ``{"ref": ...}`` entries, ``"path"``
components (whose arguments cannot be known) and ``{VARIABLE}`` strings in any
value are accepted.

>>> from clara_core.config.schema import json_type
>>> json_type("int | None")
{'type': ['integer', 'null']}
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any

from clara_core.config.comments import allow_comments
from clara_core.config.sdk_args import add_sdk_properties
from clara_core.config.sections import TRAIN_SECTIONS, VALIDATE_SECTIONS
from clara_core.config.settings import TrainSettings, describe_settings
from clara_core.registry.kinds import KINDS

VARIABLE = {"type": "string", "pattern": r"^\{[A-Za-z_][A-Za-z0-9_]*\}$"}
_SCALARS = {"int": "integer", "float": "number", "bool": "boolean", "str": "string",
            "dict": "object"}


def json_type(annotation: Any) -> dict[str, Any]:
    """The JSON Schema type of a constructor annotation (a string under postponed
    evaluation); ``{}`` (anything) when it has no JSON meaning."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    types: list[str] = []
    for part in (p.strip() for p in text.replace("Optional[", "").rstrip("]").split("|")):
        base = part.split("[")[0].split(".")[-1]
        if part == "None":
            types.append("null")
        elif base in _SCALARS:
            types.append(_SCALARS[base])
            if base == "float":
                types.append("integer")
        elif base in ("Sequence", "list", "tuple", "List", "Tuple"):
            types.append("array")
        elif base in ("Mapping", "Dict"):
            types.append("object")
        else:
            return {}
    unique = list(dict.fromkeys(types))
    return {"type": unique[0] if len(unique) == 1 else unique} if unique else {}


def setting_type(hint: Any) -> dict[str, Any]:
    """The JSON Schema of a (resolved) settings annotation.

    >>> setting_type(typing.Literal["a", "b"] | None)
    {'anyOf': [{'enum': ['a', 'b']}, {'type': 'null'}]}
    """
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if args and origin is not None and type(None) in args:
        return {"anyOf": [setting_type(a) for a in args]}
    if hint is type(None):
        return {"type": "null"}
    name = {bool: "boolean", int: "integer", float: "number", str: "string"}.get(hint, "object")
    return {"type": name}


def arg_descriptions(doc: str | None) -> dict[str, str]:
    """``name: text`` lines of a docstring's ``Args:`` section (one line each)."""
    out: dict[str, str] = {}
    in_args = False
    for line in (doc or "").splitlines():
        stripped = line.strip()
        if re.match(r"^Args( \(.*\))?:$", stripped):
            in_args = True
            continue
        if in_args:
            m = re.match(r"^(\w+)(?: \([^)]*\))?: (.+)$", stripped)
            if m:
                out[m.group(1)] = m.group(2)
            elif stripped and not line.startswith(" " * 12) and stripped.endswith(":"):
                in_args = False
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return None
    return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else None


def component_schema(name: str, cls: type, distribution: str) -> dict[str, Any]:
    """The schema of one ``{"name": ..., "args": {...}}`` entry for ``cls``."""
    doc = inspect.getdoc(cls) or ""
    described = arg_descriptions(doc)
    properties: dict[str, Any] = {}
    required: list[str] = []
    open_args = False
    init = cls.__init__  # type: ignore[misc]  # not the class: Component.__new__ takes *args
    for p in list(inspect.signature(init).parameters.values())[1:]:
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            open_args = True
            continue
        prop = json_type(p.annotation) if p.annotation is not p.empty else {}
        if prop:
            prop = {"anyOf": [prop, VARIABLE]}
        if p.name in described:
            prop["description"] = described[p.name]
        if p.default is p.empty:
            required.append(p.name)
        else:
            default = _json_default(p.default)
            if default is not None or p.default is None:
                prop["default"] = default
        properties[p.name] = prop
    add_sdk_properties(cls, properties)  # the SDK's vocabulary the config builder maps
    alias = re.escape(name)
    args: dict[str, Any] = {"type": "object", "properties": properties,
                            "additionalProperties": open_args}
    if required:
        args["required"] = required
    return {
        "type": "object",
        "description": f"{name} ({distribution}): {doc.splitlines()[0] if doc else ''}".strip(),
        "properties": {
            "name": {"anyOf": [{"enum": [name]},
                               {"type": "string", "pattern": rf"^([\w.-]+:)?{alias}(#.+)?$"}]},
            "args": args,
            "disabled": {"type": "boolean"},
            # an AutoML search space: read, not searched (clara_core.config.automl)
            "search": {"type": "array"},
            "apply": {"type": "object"},
        },
        "required": ["name", *(["args"] if required else [])],
        "additionalProperties": False,
    }


def build_schema(registry: Any) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a train config for the components installed."""
    defs: dict[str, Any] = {
        "variable": VARIABLE,
        "ref": {"type": "object", "properties": {"ref": {"type": "string"}},
                "required": ["ref"], "additionalProperties": False},
        "path": {"type": "object", "required": ["path"],
                 "properties": {"path": {"type": "string"}, "name": {"type": "string"},
                                "args": {"type": "object"}, "disabled": {"type": "boolean"}},
                 "additionalProperties": False},
    }
    by_kind: dict[str, list[dict[str, str]]] = {k: [{"$ref": "#/$defs/ref"},
                                                    {"$ref": "#/$defs/path"}] for k in KINDS}
    for entry in registry.entries():
        key = f"{entry.kind}.{entry.name}"
        if key in defs:
            continue
        cls = registry.resolve(entry.kind, entry.qualified_name)
        defs[key] = component_schema(entry.name, cls, entry.distribution)
        by_kind[entry.kind].append({"$ref": f"#/$defs/{key}"})
    for kind, options in by_kind.items():
        defs[f"kind.{kind}"] = {"anyOf": options}

    def section(kind: str, is_list: bool) -> dict[str, Any]:
        one = {"$ref": f"#/$defs/kind.{kind}"}
        return {"type": "array", "items": one} if is_list else one

    sections = {key: section(s.kind, s.is_list) for key, s in TRAIN_SECTIONS.items()}
    settings: dict[str, Any] = {}
    hints = typing.get_type_hints(TrainSettings)
    for key, expected, default, meaning in describe_settings(TrainSettings):
        settings[key] = {"anyOf": [setting_type(hints[key]), VARIABLE],
                         "description": f"{meaning}: {expected}", "default": default}
    schema: dict[str, Any] = allow_comments({  # a key starting with _ is a comment
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Clara BYOC train config",
        "type": "object",
        "properties": {
            **settings,
            "train": {"type": "object", "properties": sections, "additionalProperties": False},
            "validate": {"type": "object", "additionalProperties": False, "properties": {
                key: section(s.kind, s.is_list) for key, s in VALIDATE_SECTIONS.items()}},
        },
        "$defs": defs,
    })
    return schema


__all__ = ["arg_descriptions", "build_schema", "component_schema", "json_type"]
