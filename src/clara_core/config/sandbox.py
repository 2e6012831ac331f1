"""Where a config writes: output paths resolved against the MMAR, kept inside it under names-only.

A component names the constructor arguments it writes to (``output_args``); their
relative paths are the MMAR's. A names-only config (one you do not trust) writes
only inside its MMAR and the folders the command line names (``--set``): any other
output path, or a run folder from the environment elsewhere, is a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clara_core.components.base import Component
from clara_core.config.jsonio import Loc, problem_at
from clara_core.config.loader import LoadedConfig
from clara_core.errors import Problem

#: the environment's run folders, which a names-only config keeps inside too
RUN_FOLDERS = ("MMAR_CKPT_DIR", "MMAR_EVAL_OUTPUT_PATH")


def resolve_outputs(cls: type[Component], args: Mapping[str, Any], loc: Loc, loaded: LoadedConfig,
                    names_only: bool, problems: list[Problem]) -> dict[str, Any]:
    """``args`` with the component's output paths (``cls.output_args``) resolved against
    the MMAR; under names-only, a path outside the MMAR and the command line's folders
    is a problem."""
    resolved = dict(args)
    for name in cls.output_args:
        value = args.get(name)
        if not isinstance(value, str) or not value:
            continue
        resolved[name] = loaded.path_in_mmar(value)
        if names_only and not loaded.may_write(value):
            problems.append(problem_at(
                (*loc, "args", name), f"writes to {resolved[name]}, outside the MMAR "
                f"{loaded.mmar_root}; a names-only config writes only inside its MMAR",
                "use a path inside the MMAR, or name the folder on the command line (--set)"))
    return resolved


def check_run_folders(loaded: LoadedConfig, names_only: bool,
                      problems: list[Problem]) -> None:
    """Under names-only, the run's folders from the environment stay inside too."""
    if not names_only:
        return
    for key in RUN_FOLDERS:
        value = loaded.env.get(key)
        if isinstance(value, str) and value and not loaded.may_write(value):
            problems.append(Problem(
                f"environment {key}", f"{value!r} is outside the MMAR "
                f"{loaded.mmar_root}; a names-only config writes only inside its MMAR",
                f"use a folder inside the MMAR, or give it with --set {key}=..."))


__all__ = ["RUN_FOLDERS", "check_run_folders", "resolve_outputs"]
