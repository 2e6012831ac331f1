"""Reading JSON files with errors that give file, line and column; naming places in them."""

from __future__ import annotations

import json
import os
from typing import Any

from clara_core.errors import ConfigError, Problem

#: a place in a JSON document: keys and list indexes from the top
Loc = tuple[str | int, ...]

#: deeper JSON than this is no config (the SDK's nest five or six levels)
MAX_DEPTH = 64


def depth(value: Any) -> int:
    """How deeply ``value`` nests (without recursion, whatever its depth).

    >>> depth(1), depth([1, {"a": [2]}])
    (0, 3)
    """
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


def read_json(path: str, what: str) -> Any:
    """Parse the JSON file at ``path``; ``what`` names it in errors ("train config")."""
    if not os.path.isfile(path):
        raise ConfigError(
            [Problem(path, f"{what} not found", "check the path (-c/-e/-m or the datalist path)")]
        )
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path, f"cannot read {what}: {exc}")]) from None
    too_deep = ConfigError([Problem(path, f"{what} nests deeper than {MAX_DEPTH} levels",
                                    "a config is a few levels of objects and lists; check "
                                    "that this is the file you meant")])
    try:
        value = json.loads(text)
    except RecursionError:
        raise too_deep from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            [
                Problem(
                    f"{path} line {exc.lineno} column {exc.colno}",
                    f"{what} is not valid JSON: {exc.msg}",
                    "JSON needs double quotes, no trailing commas and no comments",
                )
            ]
        ) from None
    if depth(value) > MAX_DEPTH:
        raise too_deep
    return value


def format_location(parts: Loc) -> str:
    """Dotted JSON location with list indexes: ``train.pre_transforms[2].args``.

    >>> format_location(("train", "pre_transforms", 2, "args"))
    'train.pre_transforms[2].args'
    """
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "(top level)"


def problem_at(loc: Loc, message: str, hint: str = "") -> Problem:
    """A :class:`Problem` at a JSON location.

    >>> print(problem_at(("train", "loss", "args"), "expected an object", "write {...}"))
    train.loss.args: expected an object; write {...}
    """
    return Problem(format_location(loc), message, hint)
