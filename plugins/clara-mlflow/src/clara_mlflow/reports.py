"""The validation reports of a run (``<metric>_summary.txt``, ``<metric>_raw.csv``):
which folders hold them, and which of their files this run wrote."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

SUFFIXES = ("_summary.txt", "_raw.csv")


def report_dirs(run: Any, config: Mapping[str, Any]) -> list[str]:
    """The metrics' ``report_path`` folders in ``config``, and ``MMAR_EVAL_OUTPUT_PATH``
    (``clara train``: from the ``environment.json`` beside the config; ``clara
    validate``: its run folder), relative paths against the MMAR.

    >>> from types import SimpleNamespace
    >>> run = SimpleNamespace(command="validate", mmar="/m", run_folder="/m/eval",
    ...                       config_file="")
    >>> report_dirs(run, {"val_metrics": [{"name": "D", "args": {"report_path": "r"}}]})
    ['/m/r', '/m/eval']
    """
    if run.command == "train":
        section = config.get("validate")
        metrics = section.get("metrics") if isinstance(section, Mapping) else None
        found = [_environment(run.config_file).get("MMAR_EVAL_OUTPUT_PATH")]
    else:
        metrics, found = config.get("val_metrics"), [run.run_folder]
    paths = [m["args"].get("report_path") for m in metrics or []
             if isinstance(m, Mapping) and isinstance(m.get("args"), Mapping)]
    dirs: list[str] = []
    for folder in [*paths, *found]:
        if isinstance(folder, str) and folder:
            path = os.path.normpath(os.path.join(run.mmar or ".", folder))
            if path not in dirs:
                dirs.append(path)
    return dirs


def written_reports(dirs: list[str], since: float) -> list[str]:
    """The report files in ``dirs`` modified at ``since`` (a time.time()) or later."""
    found = []
    for directory in dirs:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            path = os.path.join(directory, name)
            try:
                fresh = os.path.isfile(path) and os.path.getmtime(path) >= since - 1.0
            except OSError:
                fresh = False
            if name.endswith(SUFFIXES) and fresh:
                found.append(path)
    return found


def _environment(config_file: str) -> dict[str, Any]:
    """The ``environment.json`` beside the run's config, or nothing."""
    if not config_file:
        return {}
    try:
        with open(os.path.join(os.path.dirname(config_file), "environment.json"),
                  encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


__all__ = ["report_dirs", "written_reports"]
