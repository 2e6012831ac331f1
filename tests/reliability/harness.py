"""Running a corpus case: a small real MMAR, one mutation, the real ``clara`` entry point.

Each case states the exit code and the message text it must produce. Every case also
checks that no traceback was printed and that no marker file was created: attacker
code in the corpus writes ``MARKER`` when (wrongly) executed.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clara_core.cli import main

#: the file attacker code creates when it runs; no case may leave it behind
MARKER_NAME = "ATTACKER_CODE_RAN"


def attacker_code(marker: Path) -> str:
    """Python that leaves ``marker`` behind when imported or called."""
    return f"open({str(marker)!r}, 'w').write('ran')\n"


@dataclass
class Case:
    """One corpus case: ``mutate(mmar, marker)`` damages a working MMAR, then ``command``
    (``{mmar}`` is replaced) must exit with ``exit`` and print each of ``expect``."""

    name: str
    mutate: Callable[[Path, Path], None]
    command: Sequence[str]
    exit: int
    expect: Sequence[str] = ()
    after: Callable[[Path], None] | None = None  # extra checks on the MMAR afterwards
    tags: set[str] = field(default_factory=set)


def run_clara_here(args: Sequence[str]) -> tuple[int, str]:
    """``clara ARGS`` in this process; (exit code, stdout + stderr). An exception that
    escapes ``main`` is a traceback a user would have seen: it fails the case."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(args))
    return code, out.getvalue()


def run_case(case: Case, mmar: Path, marker: Path) -> str:
    case.mutate(mmar, marker)
    args = [a.replace("{mmar}", str(mmar)) for a in case.command]
    code, text = run_clara_here(args)
    assert "Traceback" not in text, text
    assert code == case.exit, f"exit {code}, expected {case.exit}:\n{text}"
    for expected in case.expect:
        assert expected in text, f"expected {expected!r} in:\n{text}"
    assert not marker.exists(), "attacker code ran"
    if case.after is not None:
        case.after(mmar)
    return text


# -- mutations ----------------------------------------------------------------------

def config_path(mmar: Path, name: str = "config_train.json") -> Path:
    return mmar / "config" / name


def edit_config(mmar: Path, change: Callable[[dict[str, Any]], None],
                name: str = "config_train.json") -> None:
    path = config_path(mmar, name)
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


def set_values(**values: Any) -> Callable[[Path, Path], None]:
    """Set top-level config values."""
    return lambda mmar, marker: edit_config(mmar, lambda c: c.update(values))


def edit_env(**values: Any) -> Callable[[Path, Path], None]:
    def mutate(mmar: Path, marker: Path) -> None:
        path = mmar / "config" / "environment.json"
        env = json.loads(path.read_text())
        env.update(values)
        path.write_text(json.dumps(env))
    return mutate


def chain(*mutations: Callable[[Path, Path], None]) -> Callable[[Path, Path], None]:
    def mutate(mmar: Path, marker: Path) -> None:
        for m in mutations:
            m(mmar, marker)
    return mutate
