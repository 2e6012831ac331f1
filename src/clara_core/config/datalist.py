"""Datalists in the Medical Segmentation Decathlon JSON form."""

from __future__ import annotations

import os
from typing import Any

from clara_core.config.jsonio import read_json
from clara_core.errors import ConfigError, Problem
from clara_core.suggest import did_you_mean

FILE_KEYS = ("image", "label")


def resolve_item(item: dict[str, Any], base_dir: str) -> dict[str, Any]:
    """Datalist item with its file fields joined to ``base_dir``; a field that lists
    files (one per channel) has each joined.

    >>> resolve_item({"image": "im/a.nii", "label": "lb/a.nii", "class": 1}, "/data")
    {'image': '/data/im/a.nii', 'label': '/data/lb/a.nii', 'class': 1}
    >>> resolve_item({"image": ["a_0000.nii", "a_0001.nii"]}, "/data")
    {'image': ['/data/a_0000.nii', '/data/a_0001.nii']}
    """
    out = dict(item)
    for key in FILE_KEYS:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = os.path.join(base_dir, value)
        elif isinstance(value, list):
            out[key] = [os.path.join(base_dir, v) if isinstance(v, str) else v for v in value]
    return out


def load_datalist(path: str, base_dir: str, key: str, where: str = "") -> list[dict[str, Any]]:
    """Items under ``key`` with file paths resolved; raises ConfigError listing every problem."""
    problems = check_datalist(path, base_dir, key, where)
    if problems:
        raise ConfigError(problems)
    data = read_json(path, "datalist")
    return [resolve_item(item, base_dir) for item in data[key]]


def check_datalist(path: str, base_dir: str, key: str, where: str = "") -> list[Problem]:
    """Problems with a datalist: missing file or key, malformed items, missing data files."""
    loc = where or path
    try:
        data = read_json(path, "datalist")
    except ConfigError as exc:
        return [Problem(loc, str(p)) for p in exc.problems]
    if not isinstance(data, dict):
        return [Problem(loc, f"datalist {path} must be a JSON object with a {key!r} list")]
    if key not in data:
        hint = did_you_mean(key, [k for k in data if isinstance(data[k], list)])
        return [Problem(loc, f"datalist {path} has no key {key!r}", hint)]
    items = data[key]
    if not isinstance(items, list) or not items:
        return [Problem(loc, f"datalist {path} key {key!r} must be a non-empty list of items")]
    problems: list[Problem] = []
    missing: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "image" not in item:
            problems.append(Problem(f"{path} {key}[{i}]",
                                    'each item must be an object with an "image" key'))
            continue
        for field, value in resolve_item(item, base_dir).items():
            if field in FILE_KEYS:
                for f in value if isinstance(value, list) else [value]:
                    if isinstance(f, str) and not os.path.exists(f):
                        missing.append(f"{key}[{i}].{field}: {f}")
    if missing:
        shown = "; ".join(missing[:3]) + (f"; and {len(missing) - 3} more" if len(missing) > 3 else "")
        problems.append(Problem(
            loc, f"{len(missing)} data file(s) of datalist {path} not found under base dir "
            f"{base_dir!r}: {shown}",
            "check data_file_base_dir (or {DATA_ROOT} in environment.json)",
        ))
    return problems
