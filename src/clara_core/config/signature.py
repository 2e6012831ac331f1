"""A config entry's ``args`` against its component's constructor signature.

Unknown arguments (with a close match), missing required ones and values whose
JSON type does not fit the annotation (an unannotated parameter: its default; null
only where the default is None), each a :class:`~clara_core.errors.Problem`
at its JSON location. (Values a constructor rejects itself raise in its
``__init__``, through :mod:`clara_core.arguments`.)
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from clara_core.config.jsontypes import default_value_ok, describe, json_value_ok
from clara_core.errors import Problem
from clara_core.suggest import did_you_mean


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
        default = params[name].default
        if not json_value_ok(value, annotation):
            problems.append(Problem(
                f"{where}.{name}",
                f"argument {name!r} of {label} expects {describe(annotation)}, "
                f"received {value!r}",
            ))
        elif annotation is inspect.Parameter.empty and not default_value_ok(value, default):
            # no annotation: the default says what kind of value it takes
            problems.append(Problem(
                f"{where}.{name}",
                f"argument {name!r} of {label} expects " + (
                    "a value (it is required)" if default is params[name].empty else
                    f"a value like its default {default!r}") + f", received {value!r}",
                "" if value is not None or default is params[name].empty else
                f"leave {name!r} out for its default",
            ))
        elif value is None and _unresolved_not_none(annotation, default):
            problems.append(Problem(f"{where}.{name}", f"argument {name!r} of {label} "
                                    f"expects {annotation}, received null",
                                    f"leave {name!r} out for its default {default!r}"))
    for name, p in params.items():
        if p.default is p.empty and name not in args:
            problems.append(Problem(where, f"missing required argument {name!r} of {label}",
                                    f"add \"{name}\": ... to args"))
    return problems


def _unresolved_not_none(annotation: Any, default: Any) -> bool:
    """An annotation left as text (its names did not resolve) that does not allow None,
    on a parameter whose default is not None.

    >>> _unresolved_not_none("str", "x"), _unresolved_not_none("Optional[str]", "x")
    (True, False)
    """
    return isinstance(annotation, str) and default is not None and \
        default is not inspect.Parameter.empty and \
        not any(word in annotation for word in ("None", "Optional", "Any", "object"))


__all__ = ["check_args", "constructor_parameters"]
