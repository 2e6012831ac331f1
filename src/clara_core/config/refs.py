"""Aliases and refs: ``"name": "X#alias"`` names an instance that ``{"ref": "alias"}`` reuses.

An entry without ``#alias`` is known by its class name, so a ref may name a component
that appears once; an explicit alias wins over a class name, and a ref must point to
a component of the kind its place expects.

>>> from clara_core.config.entries import Entry
>>> entries = [Entry(("train", "loss"), "loss", {"name": "Dice#d"}),
...            Entry(("validate", "x"), "loss", {"ref": "d"})]
>>> problems = []
>>> assign_aliases(entries, problems)
>>> entries[0].instance = "the Dice"
>>> resolve_refs(entries, problems)
>>> entries[1].instance, problems
('the Dice', [])
"""

from __future__ import annotations

from clara_core.config.entries import Entry
from clara_core.config.jsonio import format_location, problem_at
from clara_core.errors import Problem
from clara_core.registry.kinds import KINDS
from clara_core.suggest import did_you_mean


def assign_aliases(entries: list[Entry], problems: list[Problem]) -> None:
    """Give each component entry its alias: ``#alias`` (explicit) or its class name."""
    explicit: dict[str, Entry] = {}
    for e in entries:
        if "ref" in e.spec:
            continue
        name = e.spec.get("name") or e.spec["path"].replace(":", ".").rpartition(".")[2]
        base, sep, alias = name.partition("#")
        if sep:
            if not alias:
                problems.append(problem_at((*e.loc, "name"), f"empty alias in {name!r}",
                                           "write \"Name#alias\" or just \"Name\""))
                continue
            if alias in explicit:
                problems.append(problem_at((*e.loc, "name"), f"alias {alias!r} is already "
                                           f"used at {format_location(explicit[alias].loc)}",
                                           "give each \"Name#alias\" a distinct alias"))
                continue
            explicit[alias] = e
            e.alias, e.explicit_alias = alias, True
        else:
            e.alias = base


def resolve_refs(entries: list[Entry], problems: list[Problem]) -> None:
    """Give each ref entry the instance of the one component its alias names."""
    for e in entries:
        if "ref" not in e.spec:
            continue
        ref = e.spec["ref"]
        targets = [t for t in entries if t.alias == ref and "ref" not in t.spec]
        explicit = [t for t in targets if t.explicit_alias]
        targets = explicit or targets
        kinds = {t.kind for t in targets}
        if not targets:
            aliases = sorted({t.alias for t in entries if t.alias})
            problems.append(problem_at((*e.loc, "ref"), f"dangling ref {ref!r}: no component "
                                       "has that alias", did_you_mean(ref, aliases) or
                                       "name the target \"Name#alias\" and refer to the alias"))
        elif len(targets) > 1:
            places = ", ".join(format_location(t.loc) for t in targets)
            problems.append(problem_at((*e.loc, "ref"), f"ambiguous ref {ref!r}: it matches "
                                       f"{places}", "give the one you mean an alias, "
                                       "\"Name#alias\", and ref that"))
        elif e.kind not in kinds:
            t = targets[0]
            problems.append(problem_at((*e.loc, "ref"), f"ref {ref!r} points to "
                                       f"{KINDS[t.kind].article} at {format_location(t.loc)}, "
                                       f"but {KINDS[e.kind].article} is expected here"))
        else:
            e.instance = targets[0].instance


__all__ = ["assign_aliases", "resolve_refs"]
