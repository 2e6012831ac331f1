"""The pluggy hooks a ``clara.plugins`` entry point may implement.

A plugin is a module (or object) registered under the ``clara.plugins``
entry-point group whose functions are marked with :data:`hookimpl`::

    # my_pack/plugin.py
    from clara_core.hookspecs import hookimpl

    @hookimpl
    def clara_register_components():
        return [("loss", "MyLoss", "my_pack.losses:MyLoss")]

    # pyproject.toml
    [project.entry-points."clara.plugins"]
    my_pack = "my_pack.plugin"

Keep plugin modules light: they are imported whenever the registry is listed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pluggy

PROJECT = "clara"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ComponentSpec(NamedTuple):
    """A component registered programmatically.

    ``target`` is a ``"module:attr"`` string (imported when used) or the object itself.
    """

    kind: str
    name: str
    target: Any


@hookspec
def clara_register_components() -> list[ComponentSpec | tuple[str, str, Any]]:  # type: ignore[empty-body]
    """Return components to register: ``(kind, name, target)`` triples.

    ``kind`` is one of ``clara_core.registry.kinds.KINDS`` (``"loss"``, ``"model"``, ...).
    """
