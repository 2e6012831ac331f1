"""One message form for invalid constructor arguments (Keras ``argument_validation`` style).

A component checks its argument values in ``__init__`` with these helpers. Before any
constructor runs, a config's ``args`` are checked against the constructor's signature
by :mod:`clara_core.config.signature` (names and JSON types).
"""

from __future__ import annotations

from collections.abc import Iterable


def check_argument(owner: str, name: str, value: object, ok: bool, expected: str) -> None:
    """Raise ``ValueError`` in the shared form unless ``ok``.

    >>> check_argument("Dice", "smooth", -1, False, "a float >= 0")
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `smooth` of Dice: expected a float >= 0, received -1.
    """
    if not ok:
        raise ValueError(f"Invalid value for argument `{name}` of {owner}: expected {expected}, "
                         f"received {value!r}.")


def check_arguments(owner: str, checks: Iterable[tuple[str, object, bool, str]]) -> None:
    """:func:`check_argument` for each ``(name, value, ok, expected)``."""
    for name, value, ok, expected in checks:
        check_argument(owner, name, value, ok, expected)


def check_probability(owner: str, probability: float) -> None:
    """The ``probability`` argument of a random transform: a float in [0, 1].

    >>> check_probability("RandomZoom", 1.5)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `probability` of RandomZoom: expected a float in [0, 1], received 1.5.
    """
    check_argument(owner, "probability", probability,
                   isinstance(probability, int | float) and 0.0 <= probability <= 1.0,
                   "a float in [0, 1]")


DATA_FORMATS = ("channels_first", "channels_last")


def check_data_format(owner: str, data_format: str, name: str = "data_format") -> None:
    """A ``data_format`` argument: ``channels_first`` or ``channels_last``.

    >>> check_data_format("Dice", "NCHW")
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `data_format` of Dice: expected 'channels_first' or 'channels_last', received 'NCHW'.
    """
    check_argument(owner, name, data_format, data_format in DATA_FORMATS,
                   "'channels_first' or 'channels_last'")


def check_sizes(owner: str, name: str, sizes: object) -> None:
    """A list of positive integer sizes (crop, window or patch sizes).

    >>> check_sizes("CropByPosNegRatio", "size", [64, 0, 64])
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `size` of CropByPosNegRatio: expected a non-empty list of positive integers, received [64, 0, 64].
    """
    ok = isinstance(sizes, list | tuple) and bool(sizes) and all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes)
    check_argument(owner, name, sizes, ok, "a non-empty list of positive integers")
