"""The SDK compatibility table: ``docs/sdk/facts.json`` checked against what is installed.

``python tools/sdk_compat.py`` rewrites ``docs/sdk-compatibility.md``; ``--check``
exits 1 when the file is stale or a documented component or argument is missing.
Each row's status comes from the installed registry and the component classes:

- supported: the component exists under its SDK name and takes the argument (under
  the same name, or an SDK alias its class declares in ``sdk_aliases``), with the
  SDK's default where the API reference documents one;
- notice: accepted, without effect on TensorFlow 2 (the class's ``no_effect_args``,
  a setting's ``no_effect``); ``clara config check`` prints one line naming it;
- refused: only one value works here (the class's ``refused_args``); a config giving
  another is refused in one line saying why and what to use instead;
- missing: none of these (the test fails).

A name the SDK renamed when it left TLT (a fact with ``renamed``) is refused: the
registry's message names the new component.

A value that cannot work on TensorFlow 2 (a TF1 frozen graph, say) is refused when
the component meets it, in one line naming what to use instead; the table lists
the component as supported and its detail says so.
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys
from dataclasses import dataclass, fields
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FACTS = os.path.join(ROOT, "docs", "sdk", "facts.json")
TABLE = os.path.join(ROOT, "docs", "sdk-compatibility.md")


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    argument: str  # "" for the component itself
    default: Any
    status: str  # supported, notice, refused, missing
    detail: str
    source: str


def load_facts(path: str = FACTS) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


def component_rows(fact: dict[str, Any], registry: Any) -> list[Row]:
    """The component's row and one per documented argument."""
    from clara_core.errors import ClaraError

    kind, name, source = fact["kind"], fact["name"], fact["source"]
    try:
        cls = registry.resolve(kind, name)
    except ClaraError as exc:
        text = str(exc).splitlines()[0]
        new = fact.get("renamed")
        if new and f"of {new!r}" in text:  # a name from before Clara Train 3, refused
            return [Row(kind, name, "", None, "refused", f"the TLT name of {new}: use {new}",
                        source)]
        return [Row(kind, name, "", None, "missing", text, source)]
    where = f"{cls.__module__}.{cls.__qualname__}"
    rows = [Row(kind, name, "", None, "supported", where, source)]
    params = inspect.signature(cls.__init__).parameters
    var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    documented = {**fact.get("required", {}), **fact.get("used", {}), **fact.get("args", {})}
    for arg, default in documented.items():
        target = cls.sdk_aliases.get(arg, arg)
        if arg in cls.no_effect_args:
            status, detail = "notice", cls.no_effect_args[arg]
        elif arg in cls.refused_args:
            works, why = cls.refused_args[arg]
            status, detail = "refused", f"any value but {json.dumps(works)}: {why}"
        elif target in params or var_kw:
            status = "supported"
            detail = f"as {target}" if target != arg else ""
        else:
            status, detail = "missing", "not an argument of " + where
        if status == "supported" and arg in fact.get("args", {}):
            ours = params[target].default if target in params else default
            if not same_default(ours, default):
                status, detail = "missing", f"clara's default is {ours!r}, the SDK's {default!r}"
        shown = "(required)" if arg in fact.get("required", {}) else \
            default if arg in fact.get("args", {}) else f"used: {json.dumps(default)}"
        rows.append(Row(kind, name, arg, shown, status, detail, source))
    return rows


def same_default(ours: Any, sdk: Any) -> bool:
    """Whether a constructor default is the SDK's documented one (NaN equals NaN; a
    tuple its list; the SDK's comma-separated integers their list).

    >>> same_default((1, 2), "1,2"), same_default(float("nan"), float("nan"))
    (True, True)
    """
    if isinstance(sdk, float) and isinstance(ours, float) and math.isnan(sdk):
        return math.isnan(ours)
    if isinstance(ours, tuple):
        ours = list(ours)
    if isinstance(sdk, str) and isinstance(ours, list):
        return ",".join(map(str, ours)) == sdk
    return bool(ours == sdk)


def setting_rows(fact: dict[str, Any]) -> list[Row]:
    from clara_core.config.settings import EvalSettings, TrainSettings

    cls = TrainSettings if fact["config"] == "train" else EvalSettings
    known = {f.name: f for f in fields(cls)}
    f = known.get(fact["name"])
    if f is None:
        status, detail = "missing", f"not a field of {cls.__name__}"
    elif f.metadata.get("no_effect"):
        status, detail = "notice", f.metadata["no_effect"]
    else:
        status, detail = "supported", f.metadata["meaning"]
    return [Row(f"setting ({fact['config']})", fact["name"], "", fact["default"], status, detail,
                fact["source"])]


def rows(facts: dict[str, Any] | None = None) -> list[Row]:
    from clara_core.registry.registry import Registry

    facts = facts or load_facts()
    registry = Registry()
    out: list[Row] = []
    for fact in facts["components"]:
        out.extend(component_rows(fact, registry))
    for fact in facts["settings"]:
        out.extend(setting_rows(fact))
    return out


def _cell(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text.replace("|", "\\|")


def render(table_rows: list[Row]) -> str:
    counts: dict[str, dict[str, int]] = {}
    for r in table_rows:
        if not r.argument:
            kind = counts.setdefault(r.kind, {})
            kind[r.status] = kind.get(r.status, 0) + 1
    totals: dict[str, int] = {}
    for r in table_rows:
        totals[r.status] = totals.get(r.status, 0) + 1
    lines = [
        "# SDK compatibility",
        "",
        "Generated by `python tools/sdk_compat.py` from `docs/sdk/facts.json` (the SDK's "
        "documented components, arguments and settings, each with its source) and the "
        "installed registry; `tests/test_sdk_compat.py` fails when this file is stale or a "
        "row is missing. Statuses: **supported** (same name and meaning; an SDK argument "
        "name the class renames says *as ...*), **notice** (accepted without effect on "
        "TensorFlow 2: `clara config check` and `clara train` print one line naming it), "
        "**refused** (only the value named works; another is refused in one line saying "
        "why and what to use instead).",
        "",
        "Totals (components, arguments and settings): " + ", ".join(
            f"{k} {v}" for k, v in sorted(totals.items())) + ".",
        "",
        "| kind | components |",
        "|---|---|",
    ]
    lines += [f"| {k} | " + ", ".join(f"{s} {n}" for s, n in sorted(v.items())) + " |"
              for k, v in counts.items()]
    lines += ["", "| kind | name | argument | SDK default (or a use) | status | detail | source |",
              "|---|---|---|---|---|---|---|"]
    for r in table_rows:
        default = "" if not r.argument and r.kind in _COMPONENT_KINDS else _cell(r.default)
        lines.append(f"| {r.kind} | {r.name} | {r.argument} | {default} | {r.status} | "
                     f"{_cell(r.detail)} | {_cell(r.source)} |")
    return "\n".join(lines) + "\n"


_COMPONENT_KINDS = ("model", "loss", "optimizer", "lr_policy", "aux_op", "metric", "pipeline",
                    "inferer", "model_loader", "writer", "transform", "handler")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/sdk-compatibility.md is stale or a row missing")
    args = parser.parse_args(argv)
    table_rows = rows()
    text = render(table_rows)
    missing = [r for r in table_rows if r.status == "missing"]
    for r in missing:
        print(f"missing: {r.kind} {r.name} {r.argument}: {r.detail}", file=sys.stderr)
    if args.check:
        with open(TABLE, encoding="utf-8") as f:
            stale = f.read() != text
        if stale:
            print(f"{TABLE} is stale: run python tools/sdk_compat.py", file=sys.stderr)
        return 1 if stale or missing else 0
    with open(TABLE, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {TABLE}: {len(table_rows)} rows, {len(missing)} missing")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
