"""What a run logs, in MLflow's terms: the config flattened into params, the versions,
valid keys, and the epochs of ``metrics.jsonl`` (the run's own record)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

#: MLflow's limits (mlflow.utils.validation): key length, param value length
MAX_KEY, MAX_PARAM_VALUE, MAX_TAG_VALUE = 250, 6000, 8000
_INVALID_KEY_CHARS = re.compile(r"[^\w\-./ :]")


def key(name: str) -> str:
    """``name`` as a valid MLflow param or metric key (other characters become ``_``).

    >>> key("val_mean_dice"), key("dice[class 1]")
    ('val_mean_dice', 'dice_class 1_')
    """
    return _INVALID_KEY_CHARS.sub("_", name)[:MAX_KEY] or "_"


def clip(value: str, limit: int = MAX_PARAM_VALUE) -> str:
    """``value`` cut to ``limit`` characters, marked when cut.

    >>> clip("abcdef", 4)
    'a...'
    """
    return value if len(value) <= limit else value[:limit - 3] + "..."


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """The config as MLflow params: nested keys joined with dots, lists of components
    numbered, other values as JSON (strings as they are).

    >>> flatten({"epochs": 2, "train": {"loss": {"name": "Dice", "args": {}},
    ...          "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image"]}}]}})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'epochs': '2', 'train.loss.name': 'Dice', 'train.loss.args': '{}',
     'train.pre_transforms.0.name': 'LoadNifti',
     'train.pre_transforms.0.args.fields': '["image"]'}
    """
    out: dict[str, str] = {}
    for name, value in config.items():
        path = f"{prefix}{name}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, path + "."))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for i, item in enumerate(value):
                out.update(flatten(item, f"{path}.{i}.") if item else {f"{path}.{i}": "{}"})
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out[key(path)] = clip(text)
    return out


def metric_values(metrics: Mapping[str, Any]) -> dict[str, float]:
    """An epoch's values as MLflow metrics: the numbers but the epoch (it is the step).

    >>> metric_values({"epoch": 3.0, "loss": 0.5, "note": "x", "done": True, "lr": 1e-3})
    {'loss': 0.5, 'lr': 0.001}
    """
    return {key(k): float(v) for k, v in metrics.items() if k != "epoch"
            and isinstance(v, int | float) and not isinstance(v, bool)}


def logged_epochs(path: str, after: int, through: int) -> Iterator[tuple[int, dict[str, float]]]:
    """The epochs ``after < epoch <= through`` of the ``metrics.jsonl`` at ``path``, in
    order, each once (the last line of an epoch wins); lines that do not read are
    skipped, a missing file gives none."""
    found: dict[int, dict[str, float]] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return
    for line in lines:
        try:
            record = json.loads(line)
            epoch = int(record["epoch"])
        except (ValueError, TypeError, KeyError):
            continue
        if after < epoch <= through:
            found[epoch] = metric_values(record)
    for epoch in sorted(found):
        yield epoch, found[epoch]


def versions() -> dict[str, str]:
    """``version.<distribution>``: clara-core, every installed distribution with clara
    entry points (the plugins), and the MLflow client."""
    from importlib import metadata

    from clara_core.registry.discovery import discover

    found: dict[str, str] = {}
    for name in ("clara-core", "mlflow-skinny", "mlflow"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    entries, plugins = discover()
    for entry in [*entries, *plugins]:
        found.setdefault(entry.distribution, entry.version)
    return {key(f"version.{name}"): version for name, version in sorted(found.items())}


__all__ = ["clip", "flatten", "key", "logged_epochs", "metric_values", "versions"]
