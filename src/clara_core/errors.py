"""Errors that reach users. Each message says what was expected and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class ClaraError(Exception):
    """Base of errors the ``clara`` command reports as a message, not a traceback."""


@dataclass(frozen=True)
class Problem:
    """One config problem: where it is, and what is wrong.

    >>> print(Problem("train.loss.args.smoth", "unknown argument 'smoth' of Dice", "did you mean 'smooth'?"))
    train.loss.args.smoth: unknown argument 'smoth' of Dice; did you mean 'smooth'?
    """

    location: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}; {self.hint}" if self.hint else text


class ConfigError(ClaraError):
    """One or more problems in a config, reported together."""

    def __init__(self, problems: Iterable[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        count = len(self.problems)
        lines = [f"{head}{count} problem{'s' if count != 1 else ''} found:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class RegistryError(ClaraError):
    """A component name or path that cannot be resolved."""
