"""Reading JSON files with errors that give file, line and column."""

from __future__ import annotations

import json
import os
from typing import Any

from clara_core.errors import ConfigError, Problem


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
    try:
        return json.loads(text)
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


def format_location(parts: tuple[str | int, ...]) -> str:
    """Dotted JSON location with list indexes: ``train.pre_transforms[2].args``.

    >>> format_location(("train", "pre_transforms", 2, "args"))
    'train.pre_transforms[2].args'
    """
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "(top level)"
