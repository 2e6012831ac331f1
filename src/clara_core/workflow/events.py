"""``RunEvents``: the one place a run's events are dispatched.

Two audiences hear one stream: the config's handlers (the SDK's events, each a method
of :class:`~clara_core.components.handler.Handler` that receives the
:class:`~clara_core.components.run_state.RunState`), and the installed plugins'
run-event hooks (:mod:`clara_core.hookspecs`), which receive the named arguments they
ask for. Hooks are called on the chief only, never once per step.

A hook that raises does not take the run down with a traceback: the failure is kept
(:attr:`RunEvents.failure`, one line naming the plugin's distribution, the hook and
the error), the run's stop signal is raised so that training stops at the next step
boundary after writing a resume point, as Ctrl-C does, and the hooks after it still
hear the event.

>>> from clara_core.hookspecs import hookimpl
>>> import pluggy, clara_core.hookspecs as specs
>>> pm = pluggy.PluginManager(specs.PROJECT); pm.add_hookspecs(specs)
>>> class Printer:
...     @hookimpl
...     def clara_epoch_ended(self, epoch, metrics):
...         print("epoch", epoch, "loss", metrics["loss"])
>>> _ = pm.register(Printer(), name="demo-dist:printer")
>>> events = RunEvents(RunInfo(), pm.hook)
>>> events.call("clara_epoch_ended", epoch=1, metrics={"loss": 0.5})
epoch 1 loss 0.5
[]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clara_core.components.run_state import RunInfo, RunState, StopSignal
from clara_core.hookspecs import RUN_EVENTS
from clara_core.workflow.handler_list import HandlerList


class RunEvents:
    """Dispatches ``run``'s events to ``handlers`` and to the hooks of ``hooks`` (a
    pluggy hook relay, ``PluginManager.hook``; None: no plugin listens). Off the chief
    (``chief=False``) only the handlers hear them."""

    def __init__(self, run: RunInfo, hooks: Any = None, handlers: HandlerList | None = None,
                 chief: bool = True) -> None:
        self.run = run
        self.hooks = hooks if chief else None
        self.handlers = handlers or HandlerList()
        self.failure: str | None = None  # the first hook failure, one line

    # -- the SDK's handler events, each with the hook it goes with ---------------------

    def started(self, config: Mapping[str, Any]) -> None:
        self.call("clara_train_started", config=dict(config))
        self.handlers.started(self._state)

    def epoch_started(self) -> None:
        self.handlers.epoch_started(self._state)

    def iteration_completed(self) -> None:
        self.handlers.iteration_completed(self._state)

    def epoch_completed(self, epoch: int, record: Mapping[str, Any]) -> None:
        self.handlers.epoch_completed(self._state)
        self.call("clara_epoch_ended", epoch=epoch, metrics=numbers(record))

    def completed(self) -> None:
        self.handlers.completed(self._state)

    # -- hooks only --------------------------------------------------------------------

    def call(self, hook: str, **kwargs: Any) -> list[Any]:
        """Call ``hook`` on every plugin implementing it (pluggy's order: the last
        registered first), each with the arguments it names; what they returned (None
        left out)."""
        if self.hooks is None:
            return []
        if hook not in RUN_EVENTS:
            raise ValueError(f"{hook!r} is not a run event; expected one of {RUN_EVENTS}")
        kwargs.setdefault("run", self.run)
        caller = getattr(self.hooks, hook)
        results = []
        for impl in reversed(caller.get_hookimpls()):
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:  # noqa: BLE001 (a plugin's failure, reported once)
                self._failed(impl.plugin_name, hook, exc)
            else:
                if result is not None:
                    results.append(result)
        return results

    def _failed(self, plugin: str, hook: str, exc: Exception) -> None:
        line = (f"plugin {plugin} failed in its {hook} hook: {type(exc).__name__}: {exc}. "
                "Fix or uninstall that plugin (pip uninstall the distribution named)")
        if self.failure is None:
            self.failure = line
            if isinstance(self.run, RunState):
                self.run.log(f"plugin {plugin} failed in its {hook} hook: stopping at the "
                             "next step, after a resume point")
        if isinstance(self.run, RunState):
            self.run.stop_signal.request(StopSignal.HOOK)

    @property
    def _state(self) -> RunState:
        assert isinstance(self.run, RunState), "handler events belong to training runs"
        return self.run


def numbers(record: Mapping[str, Any]) -> dict[str, float]:
    """The numeric values of a metrics record as floats (what hooks get as ``metrics``).

    >>> numbers({"epoch": 2, "loss": 0.25, "note": "x", "ok": True})
    {'epoch': 2.0, 'loss': 0.25}
    """
    return {k: float(v) for k, v in record.items()
            if isinstance(v, int | float) and not isinstance(v, bool)}


def plugin_hooks(registry: Any) -> Any:
    """The run-event hook relay of the plugins ``registry`` (a
    :class:`~clara_core.registry.registry.Registry` or None) found; None when none is
    installed."""
    pm = registry.plugin_manager() if registry is not None else None
    return pm.hook if pm is not None else None


__all__ = ["RunEvents", "numbers", "plugin_hooks"]
