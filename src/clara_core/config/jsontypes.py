"""Whether a JSON value fits a Python annotation, and how an annotation reads in an error.

Config checks share these: a component's ``args`` against its constructor
(:mod:`clara_core.config.signature`), the settings (:mod:`clara_core.config.settings`)
and a run's saved state.
"""

from __future__ import annotations

import collections.abc as cabc
import inspect
import types
import typing
from typing import Any

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


def default_value_ok(value: Any, default: Any) -> bool:
    """Whether a JSON value fits an unannotated parameter, judged by its default
    (``inspect.Parameter.empty``: required): null only where the default is None; a string or a list where it is a string; a
    number or a per-axis list where it is a number; true or false where it is a bool.

    >>> default_value_ok(None, "channels_first"), default_value_ok("1", 2)
    (False, False)
    >>> default_value_ok([1, 2], 3), default_value_ok(["a"], "a"), default_value_ok(None, None)
    (True, True, True)
    >>> default_value_ok(None, inspect.Parameter.empty), default_value_ok(3, inspect.Parameter.empty)
    (False, True)
    """
    if value is None or default is None or default is inspect.Parameter.empty:
        return value is not None or default is None  # a required value is never null
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float | list) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str | list)
    return True


__all__ = ["default_value_ok", "describe", "json_value_ok"]
