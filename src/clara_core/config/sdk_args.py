"""The SDK's argument vocabulary a component class declares, applied in one place.

A class maps the SDK's configs onto its constructor with three class attributes
(see :class:`clara_core.components.base.Component`): ``sdk_aliases`` (the SDK's name
for one of its arguments), ``no_effect_args`` (accepted, named in a notice, not passed
on) and ``refused_args`` (accepted only with the value that works here). The config
builder turns a config's ``args`` into the constructor's with :func:`constructor_args`;
the JSON Schema describes the same names with :func:`add_sdk_properties`.

>>> from clara_core.components.base import Component
>>> class Opt(Component):
...     sdk_aliases = {"beta1": "beta_1"}
...     no_effect_args = {"use_locking": "nothing is locked here"}
...     refused_args = {"sparse": (False, "dense updates only")}
>>> problems, no_effect = [], []
>>> args = {"beta1": 0.8, "use_locking": True, "sparse": False}
>>> constructor_args(Opt, "optimizer Opt", args, ("optimizer",), problems, no_effect)
{'beta_1': 0.8}
>>> no_effect, problems
(['optimizer.args.use_locking (nothing is locked here)'], [])
>>> constructor_args(Opt, "optimizer Opt", {"sparse": True}, ("optimizer",), problems, [])
{}
>>> print(problems[0])
optimizer.args.sparse: optimizer Opt works only with sparse false here: dense updates only
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clara_core.components.base import Component
from clara_core.config.jsonio import Loc, format_location, problem_at
from clara_core.errors import Problem


def constructor_args(cls: type[Component], label: str, args: Mapping[str, Any], loc: Loc,
                     problems: list[Problem], no_effect: list[str]) -> dict[str, Any] | None:
    """The config's ``args`` of the entry at ``loc`` as ``cls``'s constructor takes them.

    The SDK's names are renamed; arguments without effect are left out, each added to
    ``no_effect`` as "location (why)"; a refused argument is left out when it has the
    value that works and is a problem otherwise (the rest is returned, to be checked
    too). ``label`` names the component in messages ("model Alexnet"). None, with a
    problem, when both names of one argument are given.
    """
    renamed = _renamed(cls, args, loc, problems)
    if renamed is None:
        return None
    # an argument without effect is named in the notice and not passed on: the class
    # declares it (no_effect_args) and need not take it
    skip: Mapping[str, str] = cls.no_effect_args
    no_effect.extend(f"{format_location((*loc, 'args', k))} ({skip[k]})"
                     for k in renamed if k in skip)
    kept = {k: v for k, v in renamed.items() if k not in skip}
    refused = [(key, works, why) for key, (works, why) in
               cls.refused_args.items()
               if key in kept and kept.pop(key) != works]
    for key, works, why in refused:
        problems.append(problem_at((*loc, "args", key), f"{label} works only with {key} "
                                   f"{json.dumps(works)} here: {why}"))
    return kept


def _renamed(cls: type[Component], args: Mapping[str, Any], loc: Loc,
             problems: list[Problem]) -> dict[str, Any] | None:
    """``args`` with the SDK's names of ``cls.sdk_aliases`` renamed; None (and a
    problem) when both names of one argument are given."""
    aliases: Mapping[str, str] = cls.sdk_aliases
    out: dict[str, Any] = {}
    for key, value in args.items():
        name = aliases.get(key, key)
        if name in out:
            problems.append(problem_at((*loc, "args", key), f"{key!r} and {name!r} are the "
                                       "same argument", f"give only one of {key!r} and "
                                       f"{name!r}"))
            return None
        out[name] = value
    return out


def add_sdk_properties(cls: type[Component], properties: dict[str, Any]) -> None:
    """Describe the SDK's names of ``cls`` in the JSON Schema ``properties`` of its
    ``args``: an alias as its target, arguments without effect and refused values
    with why.

    >>> from clara_core.components.base import Component
    >>> class Opt(Component):
    ...     sdk_aliases = {"beta1": "beta_1"}
    >>> properties = {"beta_1": {"type": "number"}}
    >>> add_sdk_properties(Opt, properties)
    >>> properties["beta1"]
    {'type': 'number', 'description': "the SDK's name for beta_1"}
    """
    for sdk_name, target in cls.sdk_aliases.items():
        properties[sdk_name] = {**properties.get(target, {}),
                                "description": f"the SDK's name for {target}"}
    for key, why in cls.no_effect_args.items():
        properties[key] = {"description": f"accepted without effect: {why}"}
    for key, (works, why) in cls.refused_args.items():
        properties[key] = {"const": works, "description": f"only {works!r} works: {why}"}


__all__ = ["add_sdk_properties", "constructor_args"]
