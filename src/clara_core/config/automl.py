"""The SDK's AutoML search spaces, which ``clara`` reads but does not search.

An AutoML config marks what may vary: a top-level ``"search"`` list, ``"search"``
lists and ``"apply"`` maps inside component entries, and single-component sections
(``"loss"``, ``"optimizer"``, ...) given as a list of alternatives switched by
``"apply": {"@disabled": ...}``. Without the AutoML controller such a config means
its *default choices*: every value as written, and for a list of alternatives the
first entry that is not ``"disabled": true``. :func:`default_choices` returns that
config and where the search space was, so one notice line can say the search is
not run.

>>> from clara_core.config.sections import Section
>>> cfg = {"search": [{"domain": "lr", "args": ["learning_rate"]}],
...        "train": {"loss": [{"name": "Dice", "apply": {"@disabled": "a"}},
...                           {"name": "Focal"}],
...                  "pre_transforms": [{"name": "T", "search": []}]}}
>>> fixed, places = default_choices(cfg, {"train": {"loss": Section("loss", False),
...                                                 "pre_transforms": Section("transform", True)}})
>>> fixed
{'train': {'loss': {'name': 'Dice'}, 'pre_transforms': [{'name': 'T'}]}}
>>> places
['search', 'train.loss', 'train.pre_transforms[0].search']
"""

from __future__ import annotations

from typing import Any

from clara_core.config.jsonio import format_location
from clara_core.config.sections import Section

#: the keys an AutoML config adds to a component entry
SEARCH_ENTRY_KEYS = ("search", "apply")

Loc = tuple[str | int, ...]


def default_choices(config: dict[str, Any], layout: dict[str, dict[str, Section]]
                    ) -> tuple[dict[str, Any], list[str]]:
    """``config`` without its search space, and the places that held one.

    ``layout`` maps each section (``""`` for the top level) to its component keys.
    The input is not changed.
    """
    places: list[str] = []
    out = dict(config)
    if "search" in out:
        del out["search"]
        places.append("search")
    for section, keys in layout.items():
        node = out if section == "" else out.get(section)
        if not isinstance(node, dict):
            continue
        node = dict(node)
        loc: Loc = (section,) if section else ()
        for key, spec in keys.items():
            value = node.get(key)
            if not spec.is_list and isinstance(value, list):
                places.append(format_location((*loc, key)))
                choice = _first_enabled(value)
                if choice is None:
                    del node[key]  # every alternative disabled, as if the key were absent
                else:
                    node[key] = _strip(choice, (*loc, key), [])
            elif isinstance(value, list):
                node[key] = [_strip(v, (*loc, key, i), places) for i, v in enumerate(value)]
            elif value is not None:
                node[key] = _strip(value, (*loc, key), places)
        if section:
            out[section] = node
        else:
            out = node
    return out, places


def _first_enabled(alternatives: list[Any]) -> Any:
    return next((a for a in alternatives
                 if not (isinstance(a, dict) and a.get("disabled") is True)), None)


def _strip(entry: Any, loc: Loc, places: list[str]) -> Any:
    if not isinstance(entry, dict) or not any(k in entry for k in SEARCH_ENTRY_KEYS):
        return entry
    places.extend(format_location((*loc, k)) for k in SEARCH_ENTRY_KEYS if k in entry)
    return {k: v for k, v in entry.items() if k not in SEARCH_ENTRY_KEYS}


def search_notice(places: list[str], shown: int = 4) -> str:
    """One line: the search space is read, not searched.

    >>> print(search_notice(["search", "train.loss"]))
    AutoML search space at search, train.loss: clara does not run the AutoML search; \
training with the config's default choices (values as written, the first enabled \
alternative of a list)
    """
    where = ", ".join(places[:shown]) + (f" and {len(places) - shown} more"
                                         if len(places) > shown else "")
    return (f"AutoML search space at {where}: clara does not run the AutoML search; "
            "training with the config's default choices (values as written, the first "
            "enabled alternative of a list)")


__all__ = ["SEARCH_ENTRY_KEYS", "default_choices", "search_notice"]
