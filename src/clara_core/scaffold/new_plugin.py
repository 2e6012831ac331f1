"""Write a new plugin distribution from ``templates``."""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Sequence
from string import Template

from clara_core.errors import ClaraError
from clara_core.scaffold.templates import COMPONENTS, EVENTS, INIT, PYPROJECT, README, TESTS

NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
KINDS = tuple(COMPONENTS)
#: what ``--kinds`` also accepts: a plugin listening to runs (not in the default)
EXTRA_KINDS = ("events",)


def check_name(name: str) -> str:
    """The import package of distribution ``name``, or a ClaraError saying what is allowed.

    >>> check_name("clara-acme-losses")
    'clara_acme_losses'
    >>> check_name("Acme Losses")
    Traceback (most recent call last):
    ...
    clara_core.errors.ClaraError: Invalid plugin name 'Acme Losses': use lower-case letters, digits and single hyphens, starting with a letter (e.g. clara-acme-losses).
    """
    pkg = name.replace("-", "_")
    if not NAME.match(name) or keyword.iskeyword(pkg):
        raise ClaraError(f"Invalid plugin name {name!r}: use lower-case letters, digits and "
                         "single hyphens, starting with a letter (e.g. clara-acme-losses).")
    return pkg


def new_plugin(name: str, parent: str = ".", kinds: Sequence[str] = KINDS) -> str:
    """Create ``parent/name`` with one example component of each of ``kinds`` (and an
    events module for ``"events"``)."""
    pkg = check_name(name)
    unknown = [k for k in kinds if k not in COMPONENTS and k not in EXTRA_KINDS]
    if unknown or not kinds:
        raise ClaraError(f"Unknown component kind(s) {unknown}: choose from "
                         f"{', '.join((*KINDS, *EXTRA_KINDS))}.")
    root = os.path.join(parent, name)
    if os.path.exists(root):
        raise ClaraError(f"{root} already exists; choose another name or folder (nothing was "
                         "overwritten).")
    chosen = [COMPONENTS[k] for k in kinds if k in COMPONENTS]
    groups: dict[str, list[str]] = {}
    for c in chosen:
        groups.setdefault(c["group"], []).append(f'{c["name"]} = "{pkg}.{c["module"]}:{c["name"]}"')
    if "events" in kinds:
        groups[EVENTS["group"]] = [f'{pkg} = "{pkg}.{EVENTS["module"]}"']
    entry_points = "".join(f'\n[project.entry-points."{g}"]\n' + "\n".join(lines) + "\n"
                           for g, lines in groups.items())
    title = name.replace("-", " ").title()
    fill = {"dist": name, "pkg": pkg, "title": title, "entry_points": entry_points,
            "names": ", ".join(c["name"] for c in chosen) or "(an events plugin)",
            "example": "\n".join(c["config"] for c in chosen),
            "imports": "\n".join(f'from {pkg}.{c["module"]} import {c["name"]}' for c in chosen),
            "instances": ", ".join(c["instance"] for c in chosen)}
    files = {"pyproject.toml": PYPROJECT, "README.md": README, f"src/{pkg}/__init__.py": INIT,
             "tests/test_conformance.py": TESTS if chosen else '"""The conformance kit."""\n'}
    files.update({f"src/{pkg}/{c['module']}.py": c["code"] for c in chosen})
    if "events" in kinds:
        files[f"src/{pkg}/{EVENTS['module']}.py"] = EVENTS["code"]
        files["tests/test_conformance.py"] += EVENTS["test"]
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(Template(text).safe_substitute(fill))
    return root

__all__ = ["EXTRA_KINDS", "KINDS", "check_name", "new_plugin"]
