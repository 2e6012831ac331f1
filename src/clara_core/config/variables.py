"""``{VARIABLE}`` substitution from ``environment.json`` and ``--set``."""

from __future__ import annotations

import re
from typing import Any

from clara_core.config.jsonio import format_location
from clara_core.errors import Problem
from clara_core.suggest import did_you_mean

VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(value: Any, env: dict[str, Any], problems: list[Problem],
               where: tuple[str | int, ...] = ()) -> Any:
    """Replace ``{NAME}`` in every string of ``value``; unknown names become problems.

    A string that is exactly one variable takes the variable's JSON value.

    >>> substitute({"a": "{ROOT}/x.json", "n": "{N}"}, {"ROOT": "/data", "N": 3}, [])
    {'a': '/data/x.json', 'n': 3}
    >>> problems = []
    >>> substitute(["{ROOTT}"], {"ROOT": "/data"}, problems, ("train",))
    ['{ROOTT}']
    >>> print(problems[0])
    train[0]: unknown variable {ROOTT}; define it in environment.json or with --set ROOTT=...; did you mean 'ROOT'?
    """
    if isinstance(value, dict):
        return {k: substitute(v, env, problems, (*where, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env, problems, (*where, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "{" not in value:
        return value
    whole = VARIABLE.fullmatch(value)
    if whole and whole.group(1) in env:
        return env[whole.group(1)]

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in env:
            return str(env[name])
        hint = did_you_mean(name, list(env))
        problems.append(
            Problem(
                format_location(where),
                f"unknown variable {{{name}}}; define it in environment.json or with "
                f"--set {name}=...",
                hint,
            )
        )
        return match.group(0)

    return VARIABLE.sub(replace, value)


def resolve_environment(env: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    """Let environment values refer to each other (``"{DATA_ROOT}/list.json"``)."""
    cycle = find_cycle(env)
    if cycle:
        problems.append(Problem(f"environment {cycle[0]}", "variables refer to each other in "
                                f"a cycle: {' -> '.join(cycle)}",
                                "give one of them a value that does not use the others"))
        return dict(env)
    resolved = dict(env)
    for _ in range(len(env) + 1):  # without cycles, chains resolve within len(env) rounds
        resolved = {k: substitute(v, resolved, []) for k, v in resolved.items()}
    for key, value in resolved.items():
        substitute(value, resolved, problems, ("environment", key))
    return resolved


def find_cycle(env: dict[str, Any]) -> list[str]:
    """Variables that refer to themselves through others, as a path ``[A, B, A]``.

    >>> find_cycle({"A": "{B}/x", "B": "{A}", "C": "{A}"})
    ['A', 'B', 'A']
    >>> find_cycle({"A": "{B}/x", "B": "/data"})
    []
    """
    refs = {k: [n for n in VARIABLE.findall(v) if n in env] if isinstance(v, str) else []
            for k, v in env.items()}
    done: set[str] = set()
    for start in env:
        path, stack = [start], [iter(refs[start])]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                done.add(path.pop())
                stack.pop()
            elif child in path:
                return path[path.index(child):] + [child]
            elif child not in done:
                path.append(child)
                stack.append(iter(refs[child]))
    return []
