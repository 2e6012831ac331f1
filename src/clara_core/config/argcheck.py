"""Checking a component's ``args`` against its constructor signature and annotations."""

from __future__ import annotations

import collections.abc as cabc
import inspect
import types
import typing
from typing import Any

from clara_core.errors import Problem
from clara_core.suggest import did_you_mean

_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
          dict: "an object", list: "a list", tuple: "a list", type(None): "null"}


def describe(annotation: Any) -> str:
    """How an annotation reads in an error ("a number", "a list of integer", ...).

    >>> describe(float), describe(list[int]), describe(typing.Optional[str])
    ('a number', 'a list of an integer', 'a string or null')
    """
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (list, tuple, cabc.Sequence, cabc.MutableSequence):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return "a list" + (f" of {describe(args[0])}" if len(set(args)) == 1 else "")
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        return "an object"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def json_value_ok(value: Any, annotation: Any) -> bool:
    """Whether a JSON value fits an annotation; unknown annotations accept anything.

    >>> json_value_ok(1, float), json_value_ok(True, int), json_value_ok("a", list[str])
    (True, False, False)
    >>> json_value_ok([1, 2], tuple[int, ...]), json_value_ok(None, typing.Optional[int])
    (True, True)
    """
    if annotation in (inspect.Parameter.empty, Any, object):
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(json_value_ok(value, a) for a in typing.get_args(annotation))
    if origin is typing.Literal:
        return value in typing.get_args(annotation)
    if origin in (list, tuple, cabc.Sequence, cabc.MutableSequence, cabc.Iterable):
        if not isinstance(value, list):
            return False
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if origin is tuple and len(args) > 1 and len(set(args)) > 1:
            return len(value) == len(args) and all(map(json_value_ok, value, args))
        return not args or all(json_value_ok(v, args[0]) for v in value)
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        return isinstance(value, dict)
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation in (list, tuple):
        return isinstance(value, list)
    if annotation is dict:
        return isinstance(value, dict)
    if annotation is type(None) or annotation is None:
        return value is None
    return True  # a class we cannot map to JSON (dtype, ShapeFormat): the constructor decides


def constructor_parameters(cls: Any) -> tuple[dict[str, inspect.Parameter], dict[str, Any], bool]:
    """(parameters, resolved annotations, accepts **kwargs) of a component class."""
    init = cls.__init__ if isinstance(cls, type) else cls  # type: ignore[misc]
    try:
        params = dict(inspect.signature(init).parameters)
    except (TypeError, ValueError):
        return {}, {}, True
    if isinstance(cls, type):
        params.pop(next(iter(params), ""), None)  # self
    try:
        hints = typing.get_type_hints(init)
    except Exception:
        hints = {}
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    params = {n: p for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    return params, hints, var_kw


def check_args(cls: Any, label: str, args: dict[str, Any], where: str) -> list[Problem]:
    """Unknown, missing and wrongly typed arguments of ``label`` (e.g. "loss Dice")."""
    problems: list[Problem] = []
    params, hints, var_kw = constructor_parameters(cls)
    for name, value in args.items():
        if name not in params:
            if not var_kw:
                accepted = ", ".join(params) or "no arguments"
                hint = did_you_mean(name, params) or f"it accepts: {accepted}"
                problems.append(Problem(f"{where}.{name}", f"unknown argument {name!r} of {label}",
                                        hint))
            continue
        annotation = hints.get(name, params[name].annotation)
        if not json_value_ok(value, annotation):
            problems.append(Problem(
                f"{where}.{name}",
                f"argument {name!r} of {label} expects {describe(annotation)}, "
                f"received {value!r}",
            ))
    for name, p in params.items():
        if p.default is p.empty and name not in args:
            problems.append(Problem(where, f"missing required argument {name!r} of {label}",
                                    f"add \"{name}\": ... to args"))
    return problems
