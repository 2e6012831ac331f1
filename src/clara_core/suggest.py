"""Close-match suggestions for misspelt names ("did you mean ...?")."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` candidates that look like ``word`` (case-insensitive matches first).

    >>> close_matches("dise", ["Dice", "Focal", "DiceCE"])
    ['Dice', 'DiceCE']
    """
    names = list(candidates)
    exact = [c for c in names if c.lower() == word.lower() and c != word]
    lowered = {c.lower(): c for c in names}
    fuzzy = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n, 0.6)]
    return [m for m in dict.fromkeys(exact + fuzzy) if m != word][:n]


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"did you mean 'a' or 'b'?"``, or an empty string when nothing is close.

    >>> did_you_mean("smoth", ["smooth", "jaccard"])
    "did you mean 'smooth'?"
    """
    matches = close_matches(word, candidates)
    return "did you mean " + " or ".join(repr(m) for m in matches) + "?" if matches else ""
