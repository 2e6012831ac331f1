"""``--set KEY=VALUE``: override an environment variable or a (nested) config value."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from clara_core.errors import Problem
from clara_core.suggest import did_you_mean


def parse_value(text: str) -> Any:
    """JSON when it parses (numbers, booleans, lists), else the plain string.

    >>> parse_value("1e-3"), parse_value("true"), parse_value("[64, 64]"), parse_value("/data")
    (0.001, True, [64, 64], '/data')
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def apply_overrides(
    config: dict[str, Any], env: dict[str, Any], overrides: Sequence[str]
) -> list[Problem]:
    """Apply each ``KEY=VALUE`` in place and return the problems found.

    A KEY naming an environment variable, or spelled like one (``MMAR_CKPT``: upper
    case, digits and ``_``), sets the variable; otherwise it is a dotted path into the
    config (``train.loss.args.smooth``, ``epochs``, list items by index:
    ``train.pre_transforms.0.args.fields`` or, as messages print locations,
    ``train.pre_transforms[0].args.fields``). The last key may be new.

    >>> cfg, env = {"epochs": 10, "train": {"loss": {"args": {}}}}, {"DATA_ROOT": "/d"}
    >>> apply_overrides(cfg, env, ["epochs=2", "DATA_ROOT=/x", "train.loss.args.smooth=0.1",
    ...                            "MMAR_CKPT=models/model_best.weights.h5"])
    []
    >>> cfg["epochs"], env["DATA_ROOT"], cfg["train"]["loss"]["args"], env["MMAR_CKPT"]
    (2, '/x', {'smooth': 0.1}, 'models/model_best.weights.h5')
    >>> cfg["train"]["pre"] = [{"args": {}}]
    >>> apply_overrides(cfg, env, ["train.pre[0].args.size=[8, 8]"]), cfg["train"]["pre"]
    ([], [{'args': {'size': [8, 8]}}])
    >>> print(apply_overrides(cfg, env, ["train.los.args.smooth=1"])[0])
    --set train.los.args.smooth: no key 'los' in train; did you mean 'loss'?
    """
    problems: list[Problem] = []
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(Problem(f"--set {item}", "expected KEY=VALUE",
                                    "e.g. --set epochs=2 or --set DATA_ROOT=/data"))
            continue
        value = parse_value(raw)
        if key in env or _is_variable_name(key):
            env[key] = value
            continue
        problem = _set_path(config, key, value)
        if problem:
            problems.append(Problem(f"--set {key}", problem[0], problem[1]))
    return problems


def _is_variable_name(key: str) -> bool:
    return key[0].isalpha() and key.upper() == key and key.replace("_", "").isalnum()


def _set_path(config: dict[str, Any], key: str, value: Any) -> tuple[str, str] | None:
    parts = re.sub(r"\[(\d+)\]", r".\1", key).split(".")  # a[0].b is a.0.b
    node: Any = config
    walked: list[str] = []
    for part in parts[:-1]:
        where = ".".join(walked) or "the config"
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return f"{where} is a list of {len(node)} items; {part!r} is not an index", ""
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                return f"no key {part!r} in {where}", did_you_mean(part, node)
            node = node[part]
        else:
            return f"{where} is a {type(node).__name__}, not an object", ""
        walked.append(part)
    last = parts[-1]
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            return f"{'.'.join(walked)} is a list of {len(node)} items; {last!r} is not an index", ""
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        return f"{'.'.join(walked)} is a {type(node).__name__}, not an object", ""
    return None
