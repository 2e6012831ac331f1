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

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clara_core.config.jsonio import format_location, problem_at
from clara_core.config.sections import Section
from clara_core.errors import Problem
from clara_core.suggest import did_you_mean

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
    AutoML search space at search, train.loss: training with the config's default \
choices (values as written, the first enabled alternative of a list); clara automl \
searches it
    """
    where = ", ".join(places[:shown]) + (f" and {len(places) - shown} more"
                                         if len(places) > shown else "")
    return (f"AutoML search space at {where}: training with the config's default choices "
            "(values as written, the first enabled alternative of a list); clara automl "
            "searches it")




# -- the search-space language ------------------------------------------------------------

DOMAINS = ("lr", "net", "transform")
TYPES = ("float", "enum")
ITEM_KEYS = ("domain", "type", "args", "targets")
#: the component attributes a search or an ``apply`` may set (the SDK's ``@`` names)
ATTRIBUTES = ("disabled",)


@dataclass(frozen=True)
class Target:
    """What one arg of a search item sets: a component ``arg``, a component ``attr``
    (``@disabled``), a top-level ``setting`` (``learning_rate``) or only a ``var``
    (a top-level ``@name`` or an unknown top-level name); ``var`` is the shared
    variable it defines (``probability#myProb`` defines ``myProb``)."""

    kind: str
    name: str
    var: str | None = None


@dataclass(frozen=True)
class SearchItem:
    """One item of a ``search`` list, checked: where it is and what it varies.

    ``owner`` is the component entry's location (``()`` at the top level); a ``float``
    item has ``low``/``high``, an ``enum`` item its ``choices`` (one value per arg).

    >>> item = SearchItem(("search", 0), (), "lr", "float",
    ...                   (Target("setting", "learning_rate"),), low=1e-4, high=1e-3)
    >>> item.prl, item.values(5e-4)
    ('lr.float.top:learning_rate', (0.0005,))
    """

    loc: Loc
    owner: Loc
    domain: str
    type: str
    targets: tuple[Target, ...]
    low: float = 0.0
    high: float = 0.0
    choices: tuple[tuple[Any, ...], ...] = ()

    @property
    def prl(self) -> str:
        """The item's key (the SDK's parameter range locator): domain, type, place, args."""
        names = ",".join(t.name if t.kind != "attr" else "@" + t.name for t in self.targets)
        place = format_location(self.owner) if self.owner else "top"
        return f"{self.domain}.{self.type}.{place}:{names}"

    def values(self, choice: float | int) -> tuple[Any, ...]:
        """The value of each arg for a float, or for the index of an enum choice."""
        if self.type == "float":
            return (float(choice),) * len(self.targets)
        return self.choices[int(choice)]


@dataclass(frozen=True)
class Apply:
    """``"apply": {key: var}`` of the component at ``owner`` (``key`` ``@disabled`` sets
    the attribute)."""

    loc: Loc
    owner: Loc
    key: str
    var: str


@dataclass
class SearchSpec:
    """A config's search space: its items, its ``apply`` uses and its variables."""

    items: list[SearchItem] = field(default_factory=list)
    applies: list[Apply] = field(default_factory=list)
    #: variable -> (item index, arg index) that defines it
    variables: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.items)


#: says whether the component at a location takes an argument (None: cannot tell)
Accepts = Callable[[Loc, str], "bool | None"]


def parse_search_space(config: dict[str, Any], layout: dict[str, dict[str, Section]],
                       problems: list[Problem], accepts: Accepts | None = None) -> SearchSpec:
    """The search space of a train config; each malformed item adds a problem at its
    JSON location (min above max, an unknown arg, a choice with the wrong number of
    values, a variable applied but never defined).

    >>> problems = []
    >>> spec = parse_search_space({"search": [{"domain": "lr", "type": "float",
    ...     "args": ["learning_rate"], "targets": [1e-3, 1e-4]}], "learning_rate": 1e-3},
    ...     {}, problems)
    >>> print(problems[0])
    search[0].targets: min 0.001 is above max 0.0001; write [min, max]
    """
    spec = SearchSpec()
    top = config.get("search")
    if top is not None:
        _items(top, ("search",), (), config, spec, problems, None)
    for owner, entry in _entries(config, layout):
        if "search" in entry:
            _items(entry["search"], (*owner, "search"), owner, entry, spec, problems, accepts)
    for owner, entry in _entries(config, layout):
        if "apply" in entry:
            _applies(entry["apply"], (*owner, "apply"), owner, spec, problems)
    for use in spec.applies:
        if use.var not in spec.variables:
            problems.append(problem_at(use.loc, f"variable {use.var!r} is applied but never "
                                       "defined", _define_hint(use.var, spec)))
    return spec


def check_search_space(config: dict[str, Any], layout: dict[str, dict[str, Section]],
                       classes: dict[Loc, Any], problems: list[Problem]) -> SearchSpec:
    """:func:`parse_search_space` for ``clara config check``: an arg a search varies may
    also be one the component's class (``classes`` by entry location) takes."""
    from clara_core.config.signature import constructor_parameters

    def accepts(loc: Loc, arg: str) -> bool | None:
        if loc not in classes:
            return None
        params, _, var_kw = constructor_parameters(classes[loc])
        return var_kw or arg in params

    return parse_search_space(config, layout, problems, accepts)


def _define_hint(var: str, spec: SearchSpec) -> str:
    near = did_you_mean(var, spec.variables)
    return near or (f'define it in a search item: "args": ["<arg>#{var}"], or a top-level '
                    f'search item with "args": ["{var}"]')


def _entries(config: dict[str, Any], layout: dict[str, dict[str, Section]]
             ) -> list[tuple[Loc, dict[str, Any]]]:
    """Every component entry (alternatives of a single-component section included)."""
    found: list[tuple[Loc, dict[str, Any]]] = []
    for section, keys in layout.items():
        node = config if section == "" else config.get(section)
        if not isinstance(node, dict):
            continue
        loc: Loc = (section,) if section else ()
        for key in keys:
            value = node.get(key)
            if isinstance(value, list):
                found += [((*loc, key, i), v) for i, v in enumerate(value) if isinstance(v, dict)]
            elif isinstance(value, dict):
                found.append(((*loc, key), value))
    return found


def _items(value: Any, loc: Loc, owner: Loc, holder: dict[str, Any], spec: SearchSpec,
           problems: list[Problem], accepts: Accepts | None) -> None:
    if not isinstance(value, list):
        problems.append(problem_at(loc, f"expected a list of search items, received "
                                   f"{type(value).__name__}"))
        return
    for i, raw in enumerate(value):
        here = (*loc, i)
        before = len(problems)
        item = _item(raw, here, owner, holder, problems, accepts)
        if item is None or len(problems) > before:
            continue
        for j, target in enumerate(item.targets):
            if target.var is None:
                continue
            if target.var in spec.variables:
                problems.append(problem_at((*here, "args", j), f"variable {target.var!r} is "
                                           "defined twice", "give each variable one search arg"))
            spec.variables[target.var] = (len(spec.items), j)
        spec.items.append(item)


def _item(raw: Any, loc: Loc, owner: Loc, holder: dict[str, Any], problems: list[Problem],
          accepts: Accepts | None) -> SearchItem | None:
    if not isinstance(raw, dict):
        problems.append(problem_at(loc, "expected a search item {\"domain\": ..., \"type\": "
                                   f"..., \"args\": [...], \"targets\": [...]}}, received {raw!r}"))
        return None
    for key in raw:
        if key not in ITEM_KEYS:
            problems.append(problem_at((*loc, key), f"unknown key {key!r} of a search item",
                                       did_you_mean(key, ITEM_KEYS) or
                                       f"a search item has {', '.join(ITEM_KEYS)}"))
    domain, kind = raw.get("domain"), raw.get("type")
    if domain not in DOMAINS:
        problems.append(problem_at((*loc, "domain"), f"expected one of {', '.join(DOMAINS)}, "
                                   f"received {domain!r}"))
    if kind not in TYPES:
        problems.append(problem_at((*loc, "type"), f"expected float or enum, received {kind!r}"))
        return None
    names = raw.get("args")
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        problems.append(problem_at((*loc, "args"), "expected a non-empty list of arg names"))
        return None
    targets = tuple(_target(n, (*loc, "args", j), owner, holder, problems, accepts)
                    for j, n in enumerate(names))
    if kind == "float":
        low, high = _range(raw.get("targets"), (*loc, "targets"), problems)
        return SearchItem(loc, owner, str(domain), kind, targets, low=low, high=high)
    choices = _choices(raw.get("targets"), len(names), (*loc, "targets"), problems)
    return SearchItem(loc, owner, str(domain), kind, targets, choices=choices)


def _target(name: str, loc: Loc, owner: Loc, holder: dict[str, Any], problems: list[Problem],
            accepts: Accepts | None) -> Target:
    arg, _, var = name.partition("#")
    if not owner:  # the top level: a setting, or a variable of its own
        bare = arg.lstrip("@")
        if arg.startswith("@") or arg not in holder:
            return Target("var", bare, var or bare)
        return Target("setting", arg, var or arg)
    if arg.startswith("@"):
        if arg[1:] not in ATTRIBUTES:
            problems.append(problem_at(loc, f"unknown attribute {arg!r}",
                                       "the attribute a search may set is @disabled"))
        return Target("attr", arg[1:], var or None)
    args = holder.get("args")
    written = isinstance(args, dict) and arg in args
    if not written and not (accepts is not None and accepts(owner, arg)):
        what = holder.get("name") or holder.get("path") or "the component"
        problems.append(problem_at(loc, f"unknown arg {arg!r} of {what}",
                                   did_you_mean(arg, args or {}) or
                                   "a search varies args the component takes: write it in "
                                   "\"args\" with its default value"))
    return Target("arg", arg, var or None)


def _range(value: Any, loc: Loc, problems: list[Problem]) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and
            all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        problems.append(problem_at(loc, f"a float search needs [min, max], received {value!r}"))
        return 0.0, 0.0
    low, high = float(value[0]), float(value[1])
    if low > high:
        problems.append(problem_at(loc, f"min {value[0]} is above max {value[1]}",
                                   "write [min, max]"))
    return low, high


def _choices(value: Any, count: int, loc: Loc, problems: list[Problem]
             ) -> tuple[tuple[Any, ...], ...]:
    if not isinstance(value, list) or not value:
        problems.append(problem_at(loc, "an enum search needs a non-empty list of choices, "
                                   f"each a list of {count} value(s), received {value!r}"))
        return ()
    out = []
    for c, choice in enumerate(value):
        if not isinstance(choice, list) or len(choice) != count:
            got = f"{len(choice)} values" if isinstance(choice, list) else repr(choice)
            problems.append(problem_at((*loc, c), f"a choice needs {count} value(s), one per "
                                       f"arg, received {got}"))
        else:
            out.append(tuple(choice))
    return tuple(out)


def _applies(value: Any, loc: Loc, owner: Loc, spec: SearchSpec,
             problems: list[Problem]) -> None:
    if not isinstance(value, dict):
        problems.append(problem_at(loc, "expected an object {\"arg or @attribute\": "
                                   f"\"variable\"}}, received {value!r}"))
        return
    for key, var in value.items():
        if key.startswith("@") and key[1:] not in ATTRIBUTES:
            problems.append(problem_at((*loc, key), f"unknown attribute {key!r}",
                                       "the attribute apply may set is @disabled"))
        elif not isinstance(var, str):
            problems.append(problem_at((*loc, key), f"expected a variable name, received {var!r}"))
        else:
            spec.applies.append(Apply((*loc, key), owner, key, var))


__all__ = ["SEARCH_ENTRY_KEYS", "Apply", "SearchItem", "SearchSpec", "Target",
           "check_search_space", "default_choices", "parse_search_space", "search_notice"]
