"""The search's Optuna study: where it is stored, which trials count, which were
interrupted.

By default the study is a journal file in the MMAR (``automl/<run_id>/study.journal``,
Optuna's ``JournalFileBackend``: nothing to start, safe for several processes, on a
shared filesystem for several hosts); ``--storage`` takes an RDB URL instead
(``postgresql://...``, ``mysql+pymysql://...``, ``sqlite:///...``). The study is named
after ``run_id`` and maximises the key metric.

A trial's owner (``host:pid``) and heartbeat are user attributes: a running trial
whose process is gone (same host) or whose heartbeat stopped (another host) was
interrupted; it is failed, marked ``interrupted`` and its values enqueued to run again.
Interrupted and surplus trials do not count towards ``max_rounds``.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

JOURNAL = "study.journal"
STALE_S = 120.0


def journal_path(run_dir: str) -> str:
    return os.path.join(run_dir, JOURNAL)


def open_study(run_id: str, run_dir: str, storage_url: str | None, sampler: Any,
               pruner: Any) -> Any:
    """The study of ``run_id`` (created, or loaded to resume or join it)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage: Any = storage_url
    if not storage_url:
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        os.makedirs(run_dir, exist_ok=True)
        storage = JournalStorage(JournalFileBackend(journal_path(run_dir)))
    return optuna.create_study(study_name=run_id, storage=storage, direction="maximize",
                               load_if_exists=True, sampler=sampler, pruner=pruner)


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def counts(trial: Any) -> bool:
    """Whether a trial counts towards ``max_rounds`` (all but interrupted and surplus)."""
    from optuna.trial import TrialState

    attrs = trial.user_attrs
    return not (trial.state == TrialState.FAIL and
                (attrs.get("interrupted") or attrs.get("surplus")))


def _alive(who: str) -> bool | None:
    """Whether the process ``host:pid`` lives (None: another host, cannot tell)."""
    host, _, pid = who.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_stale(trial: Any, now: float | None = None) -> bool:
    who = str(trial.user_attrs.get("owner", ""))
    if who == owner():
        return False
    alive = _alive(who)
    if alive is not None:
        return not alive
    beat = trial.user_attrs.get("heartbeat")
    return isinstance(beat, (int, float)) and (now or time.time()) - beat > STALE_S


def fail_interrupted(study: Any) -> list[int]:
    """Fail the running trials whose process is gone and enqueue their values again."""
    from optuna.trial import TrialState

    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if not is_stale(trial):
            continue
        if mark_interrupted(study, trial):
            failed.append(trial.number)
    return failed


def mark_interrupted(study: Any, trial: Any) -> bool:
    """Fail ``trial`` (a FrozenTrial or Trial) as interrupted and enqueue it again; False
    when another process did it first."""
    from optuna.trial import TrialState

    trial_id = trial._trial_id  # the storage's key (Optuna has no public accessor)
    try:
        study._storage.set_trial_user_attr(trial_id, "interrupted", True)
        study.tell(trial.number, state=TrialState.FAIL)
    except Exception:  # noqa: BLE001 (finished meanwhile by another process)
        return False
    study.enqueue_trial(dict(trial.params), user_attrs={"rerun_of": trial.number},
                        skip_if_exists=False)
    return True


def finished(study: Any) -> list[Any]:
    """The trials that count and have ended (complete, pruned, failed)."""
    return [t for t in study.get_trials(deepcopy=False) if t.state.is_finished() and counts(t)]


__all__ = ["JOURNAL", "counts", "fail_interrupted", "finished", "is_stale", "journal_path",
           "mark_interrupted", "open_study", "owner"]
