"""``clara plugin new``: scaffold a plugin distribution."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    from clara_core.scaffold.templates import COMPONENTS

    p = sub.add_parser("plugin", help="write a new plugin distribution")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = s.add_parser(
        "new", help="a ready-to-publish plugin: pyproject, components, tests, README",
        description="Write NAME/ with one example component of each kind, registered by entry "
                    "point, and tests that run the conformance kit. Then: pip install ./NAME")
    new.add_argument("name", help="distribution name, e.g. clara-acme-losses")
    new.add_argument("--kinds", default=",".join(COMPONENTS),
                     help=f"comma-separated kinds (default: {','.join(COMPONENTS)}); add "
                          "events for a plugin that listens to runs (run-event hooks)")
    new.add_argument("--dir", default=".", help="parent folder (default: current)")
    new.set_defaults(func=run_new)


def run_new(args: argparse.Namespace) -> int:
    from clara_core.scaffold.new_plugin import new_plugin

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    root = new_plugin(args.name, args.dir, kinds)
    print(f"wrote {root}\nnext: pip install {root} && clara components list && "
          f"(cd {root} && pytest)")
    return 0
