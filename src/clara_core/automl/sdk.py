"""The SDK's AutoML contracts: Controller, Handler and the values they exchange.

A controller or handler written for the SDK (``from automl.components.controllers.
controller import Controller``, ``from automl.defs import Context, ...``) and given by
``"path"`` in ``config_automl.json`` runs unchanged: :func:`install_sdk_names` makes
those module names point here while ``clara automl`` loads it (only when no module of
that name is installed).

>>> ctx = Context()
>>> ctx.set_prop(ContextKey.JOB_NAME, "W1_1")
>>> ctx.get_prop("_jobName"), ctx.stop_work_asked()
('W1_1', False)
>>> ctx.stop_work(None, "enough"); ctx.stop_work_asked(), ctx.get_stop_message()
(True, 'enough')
"""

from __future__ import annotations

import abc
import enum
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any

from clara_core.components.base import Component


@dataclass
class SearchRange:
    """One range of a search target: ``[min, max]`` of a float, or one enum choice
    (``min == max ==`` its index, ``value`` its values, one per arg)."""

    min: float
    max: float
    value: Any = None


@dataclass
class SearchSpace:
    """``targets``: each item's key (its PRL, containing ``.float`` or ``.enum``) to its
    ranges: one for a float, one per choice for an enum."""

    name: str
    targets: dict[str, list[SearchRange]] = field(default_factory=dict)


@dataclass
class SearchResult:
    """A point of the space: each PRL to a float value, or to an enum choice's index."""

    space: SearchSpace
    values: dict[str, Any]

    def dump(self) -> None:
        for key, value in self.values.items():
            print(f"{key}: {value}")


@dataclass
class Recommendation:
    rec_id: int
    result: SearchResult


class Status(enum.Enum):
    OK = "ok"
    ERROR = "error"
    PRUNED = "pruned"
    INTERRUPTED = "interrupted"


@dataclass
class Outcome:
    """What executing a recommendation gave (``score`` None when the job failed)."""

    recommendation_id: int
    score: float | None
    job_name: str = ""
    status: Status = Status.OK
    result: SearchResult | None = None


class ContextKey:
    """The property names the SDK's components read from the context."""

    RECOMMENDATIONS = "_recommendations"
    JOB_NAME = "_jobName"
    SCORE = "_score"
    CONCRETE_SEARCH_VALUE = "_concreteSearchValue"
    SEARCH_SPACE = "_searchSpace"
    SEARCH_RESULT = "_searchResult"
    JOB_STATUS = "_jobStatus"
    MMAR_ROOT = "_mmarRoot"
    RUN_ROOT = "_runRoot"
    TRAIN_CONFIG_FILE = "_trainConfigFile"
    JOB_MMAR_ROOT = "_jobMmarRoot"
    TRIAL_NUMBER = "_trialNumber"


class Context:
    """Properties shared by the search's components; a job's context has the search's
    as ``parent``. Stopping is asked here (``stop_work``) and honoured by the engine."""

    def __init__(self, parent: Context | None = None) -> None:
        self.parent = parent
        self._props: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._stop: list[str] = [] if parent is None else parent._stop

    def set_prop(self, key: str, value: Any) -> None:
        with self._lock:
            self._props[key] = value

    def get_prop(self, key: str, default: Any = None) -> Any:
        if key in self._props:
            return self._props[key]
        return self.parent.get_prop(key, default) if self.parent is not None else default

    def stop_work(self, issuer: Any, msg: str) -> None:
        if not self._stop:
            self._stop.append(msg)

    def stop_work_asked(self) -> bool:
        return bool(self._stop)

    def get_stop_message(self) -> str:
        return self._stop[0] if self._stop else ""

    def exception_occurred(self, issuer: Any, msg: str | None = None) -> None:
        self.stop_work(issuer, f"exception in {type(issuer).__name__}: {msg or ''}")


class Controller(Component, abc.ABC):
    """The SDK's controller: recommends points of the search space.

    ``set_search_space`` comes first, then ``initial_recommendation`` once (one or
    more recommendations; none ends the search), then ``refine_recommendation`` after
    each finished job (zero or more). ``ctx.stop_work(self, why)`` ends the search.
    """

    @abc.abstractmethod
    def set_search_space(self, space: SearchSpace, ctx: Context) -> None: ...

    @abc.abstractmethod
    def initial_recommendation(self, ctx: Context) -> list[Recommendation]: ...

    @abc.abstractmethod
    def refine_recommendation(self, outcome: Outcome, ctx: Context) -> list[Recommendation]: ...

    def shutdown(self, ctx: Context) -> None:  # noqa: B027 (optional)
        """Called once at the end of the search."""


class Handler(Component):
    """The SDK's AutoML handler: hears the search's events; every method is optional."""

    def startup(self, ctx: Context) -> None:
        """Before the first job."""

    def recommendations_available(self, ctx: Context) -> None:
        """The controller gave recommendations (``ContextKey.RECOMMENDATIONS``)."""

    def start_job(self, ctx: Context) -> None:
        """A job starts (``ContextKey.JOB_NAME``, ``CONCRETE_SEARCH_VALUE``)."""

    def end_job(self, ctx: Context) -> None:
        """A job ended (``ContextKey.SCORE``, ``JOB_STATUS``, ``JOB_MMAR_ROOT``)."""

    def round_ended(self, ctx: Context) -> None:
        """The controller was told a job's outcome."""

    def shutdown(self, ctx: Context) -> None:
        """After the last job."""


#: the SDK's module names -> the names they export from here
SDK_MODULES = {
    "automl": (),
    "automl.defs": ("SearchRange", "SearchSpace", "SearchResult", "Recommendation", "Outcome",
                    "Context", "ContextKey", "Status"),
    "automl.components": (),
    "automl.components.controllers": ("Controller",),
    "automl.components.controllers.controller": ("Controller",),
    "automl.components.handlers": ("Handler",),
    "automl.components.handlers.handler": ("Handler",),
}


def install_sdk_names() -> bool:
    """Make the SDK's ``automl.*`` modules name these classes, unless a module ``automl``
    is installed (then it is left alone). Returns whether the names are ours."""
    import importlib.util

    if "automl" in sys.modules:
        return getattr(sys.modules["automl"], "__clara__", False) is True
    if importlib.util.find_spec("automl") is not None:
        return False
    here = sys.modules[__name__]
    for name, exported in SDK_MODULES.items():
        module = types.ModuleType(name, f"clara's stand-in for the SDK's {name}")
        module.__clara__ = True  # type: ignore[attr-defined]
        module.__path__ = []  # a package, so that submodules import
        for attr in exported:
            setattr(module, attr, getattr(here, attr))
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
    return True


__all__ = ["Context", "ContextKey", "Controller", "Handler", "Outcome", "Recommendation",
           "SearchRange", "SearchResult", "SearchSpace", "Status", "install_sdk_names"]
