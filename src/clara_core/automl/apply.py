"""A recommendation written into a train config: the trial's concrete config.

Every searched arg, attribute and setting gets its value, every ``apply`` its
variable's, then the search is removed: the top-level ``search``, each entry's
``search`` and ``apply``, and each list of alternatives becomes its first enabled
entry. What is left is an ordinary train config that ``clara train`` runs alone.

>>> from clara_core.config.automl import parse_search_space
>>> from clara_core.config.entries import layout
>>> cfg = {"search": [{"domain": "transform", "type": "enum", "args": ["useDice"],
...                    "targets": [[True], [False]]}],
...        "train": {"loss": [{"name": "Dice", "apply": {"@disabled": "useDice"}},
...                           {"name": "Focal"}],
...                  "pre_transforms": [{"name": "Noise", "args": {"probability": 0.1},
...                     "search": [{"domain": "transform", "type": "float",
...                                 "args": ["probability#p"], "targets": [0, 0.5]}]},
...                                     {"name": "Flip", "args": {}, "apply": {"probability": "p"}}]}}
>>> spec = parse_search_space(cfg, layout(False), [])
>>> concrete_config(cfg, spec, {spec.items[0].prl: 0, spec.items[1].prl: 0.25})
{'train': {'loss': {'name': 'Focal'}, 'pre_transforms': [{'name': 'Noise', 'args': \
{'probability': 0.25}}, {'name': 'Flip', 'args': {'probability': 0.25}}]}}
"""

from __future__ import annotations

import copy
from typing import Any

from clara_core.config.automl import SearchSpec, default_choices
from clara_core.config.entries import layout
from clara_core.config.jsonio import Loc


def concrete_config(config: dict[str, Any], spec: SearchSpec,
                    point: dict[str, Any]) -> dict[str, Any]:
    """``config`` (not changed) with ``point`` (each PRL to a float or a choice index)
    written in and no search left."""
    cfg = copy.deepcopy(config)
    variables: dict[str, Any] = {}
    for item in spec.items:
        for target, value in zip(item.targets, item.values(point[item.prl]), strict=True):
            if target.var is not None:
                variables[target.var] = value
            if target.kind == "setting":
                cfg[target.name] = value
            elif target.kind in ("arg", "attr"):
                _set(_node(cfg, item.owner), target.name, value, target.kind == "attr")
    for use in spec.applies:
        attr = use.key.startswith("@")
        _set(_node(cfg, use.owner), use.key[1:] if attr else use.key, variables[use.var], attr)
    fixed, _ = default_choices(cfg, layout(False))
    return fixed


def _node(cfg: dict[str, Any], loc: Loc) -> dict[str, Any]:
    node: Any = cfg
    for part in loc:
        node = node[part]
    assert isinstance(node, dict)
    return node


def _set(entry: dict[str, Any], name: str, value: Any, attribute: bool) -> None:
    if attribute:
        entry[name] = value
    else:
        args = entry.get("args")
        entry["args"] = {**(args if isinstance(args, dict) else {}), name: value}


def has_search(value: Any) -> bool:
    """Whether any ``search`` or ``apply`` key is left anywhere in ``value``.

    >>> has_search({"a": [{"name": "X", "apply": {}}]}), has_search({"a": 1})
    (True, False)
    """
    if isinstance(value, dict):
        return "search" in value or "apply" in value or any(map(has_search, value.values()))
    if isinstance(value, list):
        return any(map(has_search, value))
    return False


__all__ = ["concrete_config", "has_search"]
