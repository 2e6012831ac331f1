"""``clara components list|show``: what is installed, read from metadata."""

from __future__ import annotations

import argparse
import inspect
import json
from typing import Any

from clara_core.registry.kinds import KINDS


def add_parser(sub: Any) -> None:
    p = sub.add_parser("components", help="list and describe installed components")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = s.add_parser("list", help="installed components (reads metadata only)")
    ls.add_argument("--kind", choices=sorted(KINDS), help="only this kind")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=run_list)
    show = s.add_parser("show", help="signature, defaults, docstring and source of one component")
    show.add_argument("name", help="component name, or distribution:Name")
    show.add_argument("--kind", choices=sorted(KINDS), help="kind, when the name is in several")
    show.set_defaults(func=run_show)


def run_list(args: argparse.Namespace) -> int:
    from clara_core.registry.registry import Registry

    registry = Registry()
    entries = registry.entries(args.kind)
    clashes = registry.collisions()
    rows: list[dict[str, Any]] = [
        {"name": e.name, "kind": e.kind, "distribution": e.distribution, "version": e.version,
         "collision": (e.kind, e.name) in clashes}
        for e in entries
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No components installed" + (f" of kind {args.kind}" if args.kind else "") +
              ". Install a plugin, e.g. pip install plugins/clara-losses.")
        return 0
    heads = ("NAME", "KIND", "DISTRIBUTION", "VERSION")
    table = [(r["name"] + (" (!)" if r["collision"] else ""), r["kind"], r["distribution"],
              r["version"]) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(heads, *table, strict=False)]
    for line in (heads, *table):
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip())
    if clashes:
        print("\n(!) given by several distributions: write distribution:Name in configs, e.g. "
              f"{clashes[next(iter(clashes))][0].qualified_name}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from clara_core.errors import RegistryError
    from clara_core.registry.registry import Registry

    registry = Registry()
    short = args.name.rpartition(":")[2]
    kinds = [args.kind] if args.kind else sorted(
        {e.kind for e in registry.entries() if e.name == short}
    )
    if not kinds:
        # let the registry explain (close matches across every kind)
        from clara_core.suggest import did_you_mean

        names = sorted({e.name for e in registry.entries()})
        hint = did_you_mean(short, names)
        raise RegistryError(f"No installed component is named {args.name!r}."
                            + (f" {hint[0].upper()}{hint[1:]}" if hint else
                               " Run 'clara components list' to see what is installed."))
    for kind in kinds:
        entry = registry.find(kind, args.name)
        obj = registry.resolve(kind, args.name)
        print(f"{entry.name}  ({KINDS[kind].label}, {entry.distribution} {entry.version})")
        try:
            print(f"  signature: {entry.name}{inspect.signature(obj)}")
        except (TypeError, ValueError):
            pass
        try:
            print(f"  source:    {inspect.getsourcefile(obj)}")
        except TypeError:
            pass
        doc = inspect.getdoc(obj)
        if doc:
            print("\n" + "\n".join("  " + line for line in doc.splitlines()))
        print()
    return 0
