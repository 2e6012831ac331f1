"""The conformance check of an events plugin: a module (or object) whose hookimpls
listen to runs (:mod:`clara_core.hookspecs`).

>>> from clara_core.hookspecs import hookimpl
>>> class Listener:
...     @hookimpl
...     def clara_epoch_ended(self, epoch, metrics): ...
>>> check_events_plugin(Listener())
>>> class Typo:
...     @hookimpl
...     def clara_epoch_end(self, epoch): ...
>>> check_events_plugin(Typo())  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
AssertionError: Typo: clara_epoch_end is not a clara hook; did you mean 'clara_epoch_ended' ...
"""

from __future__ import annotations

from typing import Any

from clara_core import hookspecs
from clara_core.suggest import did_you_mean


def check_events_plugin(plugin: Any) -> None:
    """Every hookimpl of ``plugin`` names a hook of :mod:`clara_core.hookspecs` and takes
    only that hook's arguments (any subset, pluggy's rule); run events are plain
    functions, not wrappers. Raises ``AssertionError`` naming the first mismatch."""
    import pluggy

    label = getattr(plugin, "__name__", type(plugin).__name__)
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    hooks = [name for name in dir(hookspecs) if name.startswith("clara_")]
    try:
        pm.register(plugin)
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        unknown = next((name for name in _impl_names(plugin) if name not in hooks), None)
        if unknown is not None:
            raise AssertionError(
                f"{label}: {unknown} is not a clara hook; "
                f"{did_you_mean(unknown, hooks) or 'no hook is close'} "
                f"(the hooks: {', '.join(hooks)})") from None
        raise AssertionError(f"{label}: {exc}") from None
    for name in hookspecs.RUN_EVENTS:
        for impl in getattr(pm.hook, name).get_hookimpls():
            assert not (impl.hookwrapper or impl.wrapper), (
                f"{label}: {name} is a wrapper; run events call plain functions")


def _impl_names(plugin: Any) -> list[str]:
    """The names ``plugin`` marks with :data:`~clara_core.hookspecs.hookimpl`."""
    marker = f"{hookspecs.PROJECT}_impl"
    return [name for name in dir(plugin)
            if getattr(getattr(plugin, name, None), marker, None) is not None]


__all__ = ["check_events_plugin"]
