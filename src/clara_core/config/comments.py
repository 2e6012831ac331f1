"""Comment keys: a key starting with ``_`` anywhere in a config is not read.

SDK users disable a section by renaming its key (``"__model"``, ``"___search"``) and
write notes as ``"_comment"``; the SDK's loader skipped keys it did not use. Here such
a key is taken out when the config is loaded, so nothing validates or builds it
(the builder, ``clara config check``, the JSON schema of ``clara config schema``), and
one notice line lists them. A near-miss of a real key (``epcohs``) is no comment and
stays an error.

>>> clean, found = strip_comments({"_comment": "x", "train": {"__model": {}, "loss": {
...     "name": "Dice", "args": {"_was": 1}}}, "validate": [{"_note": 2}]})
>>> clean
{'train': {'loss': {'name': 'Dice', 'args': {}}}, 'validate': [{}]}
>>> found
['_comment', 'train.__model', 'train.loss.args._was', 'validate[0]._note']
>>> print(comments_notice(found))
not read (a key starting with _ is a comment): _comment, train.__model, train.loss.args._was, validate[0]._note
"""

from __future__ import annotations

from typing import Any

#: a key starting with this is a comment
COMMENT_PREFIX = "_"


def is_comment(key: object) -> bool:
    """Whether a JSON object key is a comment (starts with ``_``)."""
    return isinstance(key, str) and key.startswith(COMMENT_PREFIX)


def strip_comments(value: Any, where: str = "") -> tuple[Any, list[str]]:
    """``value`` without its comment keys (at any depth), and their locations."""
    found: list[str] = []
    return _strip(value, where, found), found


def _strip(value: Any, where: str, found: list[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if is_comment(key):
                found.append(here)
            else:
                out[key] = _strip(item, here, found)
        return out
    if isinstance(value, list):
        return [_strip(item, f"{where}[{i}]", found) for i, item in enumerate(value)]
    return value


def comments_notice(found: list[str], shown: int = 8) -> str:
    """The one notice line naming the comment keys (the first ``shown`` of them)."""
    names = ", ".join(found[:shown]) + (f" and {len(found) - shown} more"
                                        if len(found) > shown else "")
    return f"not read (a key starting with {COMMENT_PREFIX} is a comment): {names}"


def allow_comments(schema: Any) -> Any:
    """A JSON schema where every object also takes comment keys, whatever they hold.

    >>> allow_comments({"type": "object", "additionalProperties": False})
    {'type': 'object', 'additionalProperties': False, 'patternProperties': {'^_': {}}}
    """
    if isinstance(schema, list):
        return [allow_comments(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: (item if key in ("properties", "$defs", "default", "enum") else
                 allow_comments(item)) for key, item in schema.items()}
    for key in ("properties", "$defs"):
        if isinstance(schema.get(key), dict):
            out[key] = {name: allow_comments(sub) for name, sub in schema[key].items()}
    if out.get("type") == "object" or "properties" in out:
        out["patternProperties"] = {f"^{COMMENT_PREFIX}": {}}
    return out


__all__ = ["COMMENT_PREFIX", "allow_comments", "comments_notice", "is_comment",
           "strip_comments"]
