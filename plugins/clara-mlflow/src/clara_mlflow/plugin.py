"""The ``clara.plugins`` entry point: the run-event hooks that log to MLflow.

A run is tracked only when it asks (``clara train --tracking mlflow``, or the
``tracking`` setting); installed and not asked, every hook returns at once. This
module imports nothing heavy: MLflow is imported only by the logging process a
tracked run starts (:mod:`clara_mlflow.child`). No hook raises: a failure of the store, or of this plugin,
costs one warning and never the run.

>>> from clara_core.components.run_state import RunInfo
>>> clara_trackers()
['mlflow']
>>> clara_validate_started(RunInfo(command="validate"), {})  # not asked: nothing happens
>>> len(_active)
0
"""

from __future__ import annotations

import atexit
from collections.abc import Callable
from typing import Any

from clara_core.hookspecs import hookimpl

NAME = "mlflow"

#: the runs being tracked: id(run) -> (run, tracker)
_active: dict[int, tuple[Any, Any]] = {}
_atexit_registered = False
#: the searches being tracked: id(run) -> (run, SearchRun)
_searches: dict[int, tuple[Any, Any]] = {}


@hookimpl
def clara_trackers() -> list[str]:
    return [NAME]


@hookimpl
def clara_train_started(run: Any, config: dict[str, Any]) -> None:
    if run.tracks(NAME):
        _start(run, lambda tracker: tracker.start_training(
            config, int(getattr(run, "epochs_done", 0) or 0)))


@hookimpl
def clara_epoch_ended(run: Any, epoch: int, metrics: dict[str, float]) -> None:
    _with_tracker(run, lambda tracker: tracker.epoch(epoch, metrics))


@hookimpl
def clara_checkpoint_saved(run: Any, path: str, kind: str) -> None:
    _with_tracker(run, lambda tracker: tracker.checkpoint(path, kind))


@hookimpl
def clara_train_ended(run: Any, result: Any) -> None:
    _with_tracker(run, lambda tracker: tracker.end_training(result), end=True)


@hookimpl
def clara_validate_started(run: Any, config: dict[str, Any]) -> None:
    if run.tracks(NAME):
        _start(run, lambda tracker: tracker.start_validation(config))


@hookimpl
def clara_case_validated(run: Any, case: str, metrics: dict[str, float]) -> None:
    _with_tracker(run, lambda tracker: tracker.case(case, metrics))


@hookimpl
def clara_validate_ended(run: Any, metrics: dict[str, float]) -> None:
    _with_tracker(run, lambda tracker: tracker.end_validation(metrics), end=True)


@hookimpl
def clara_search_started(run: Any, search: dict[str, Any]) -> dict[str, str] | None:
    """A tracked ``clara automl``: the search's run; its trials log nested under it."""
    if not run.tracks(NAME):
        return None
    try:
        from clara_mlflow.search import SearchRun
        from clara_mlflow.store import prepare_environment, resolve

        store = resolve(run.mmar or ".")
        for note in prepare_environment(store):
            run.log(f"mlflow: {note}")
        searching = SearchRun(run, store)
        searching.start(search)
    except Exception as exc:  # noqa: BLE001 (tracking never stops a search)
        run.log(f"clara: warning: mlflow: the search is not tracked ({type(exc).__name__}: "
                f"{exc}); each trial still logs a run of its own")
        return None
    _searches[id(run)] = (run, searching)
    run.log(f"mlflow: search run {searching.mlflow.run_id} in {store.describe()}, "
            f"experiment {searching.experiment!r}; see it with: {store.ui_command}")
    return searching.trial_env()


@hookimpl
def clara_trial_ended(run: Any, trial: int, state: str, score: float | None,
                      epochs: int) -> None:
    _with_search(run, lambda searching: searching.trial_ended(trial, state, score, epochs))


@hookimpl
def clara_search_ended(run: Any, result: dict[str, Any]) -> None:
    _with_search(run, lambda searching: searching.end(result), end=True)


def _with_search(run: Any, call: Callable[[Any], None], end: bool = False) -> None:
    _call(_searches, run, call, end, _search_failed)


def _search_failed(run: Any, exc: Exception) -> None:
    _searches.pop(id(run), None)
    run.log(f"clara: warning: mlflow: search tracking stopped ({type(exc).__name__}: "
            f"{exc}); the study and the trials' own runs keep the record")


# -- the trackers of this process ---------------------------------------------------------


def _start(run: Any, start: Callable[[Any], None]) -> None:
    """A tracked run starts: its store, MLflow's settings, its tracker."""
    global _atexit_registered
    try:
        from clara_mlflow.store import prepare_environment, resolve
        from clara_mlflow.tracker import Tracker

        _end_earlier(run)
        store = resolve(run.mmar or ".")
        for note in prepare_environment(store):
            run.log(f"mlflow: {note}")
        tracker = Tracker(run, store)
        _active[id(run)] = (run, tracker)
        if not _atexit_registered:
            atexit.register(_end_all)
            _atexit_registered = True
        start(tracker)
    except Exception as exc:  # noqa: BLE001 (tracking never stops a run)
        _failed(run, exc)


def _with_tracker(run: Any, call: Callable[[Any], None], end: bool = False) -> None:
    _call(_active, run, call, end, _failed)


def _call(table: dict[int, tuple[Any, Any]], run: Any, call: Callable[[Any], None], end: bool,
          failed: Callable[[Any, Exception], None]) -> None:
    """``call`` with ``run``'s tracker in ``table`` (none: nothing); ``end`` forgets it
    after; a failure goes to ``failed`` (one warning), never to the run."""
    entry = table.get(id(run))
    if entry is None or entry[0] is not run:
        return
    try:
        call(entry[1])
    except Exception as exc:  # noqa: BLE001 (tracking never stops a run or a search)
        failed(run, exc)
    finally:
        if end:
            table.pop(id(run), None)


def _failed(run: Any, exc: Exception) -> None:
    """This plugin's own failure (not the store's): one warning, tracking off."""
    entry = _active.pop(id(run), None)
    if entry is not None and entry[0] is run:
        entry[1].finished = True
    run.log(f"clara: warning: mlflow: tracking stopped ({type(exc).__name__}: {exc}); the "
            "run goes on, and its own files keep the record")


def _end_earlier(run: Any) -> None:
    """A run object seen before (its id reused) that never ended: forget it."""
    entry = _active.pop(id(run), None)
    if entry is not None:
        entry[1].finish("FAILED", report=False)


def _end_all() -> None:
    """At exit, the runs whose end event never came (a crash): FAILED, quickly."""
    for _, tracker in list(_active.values()):
        try:
            tracker.flush_timeout = min(tracker.flush_timeout, 5.0)
            tracker.finish("FAILED", report=False)
        except Exception:  # noqa: BLE001 (exiting anyway)
            pass
    _active.clear()


__all__ = ["NAME", "clara_case_validated", "clara_checkpoint_saved", "clara_epoch_ended",
           "clara_search_ended", "clara_search_started", "clara_train_ended",
           "clara_train_started", "clara_trackers", "clara_trial_ended",
           "clara_validate_ended", "clara_validate_started"]
