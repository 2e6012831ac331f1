"""The search: workers take recommendations from the controller and run them as trials.

Each worker slot (``workers=0:1`` gives two) runs one trial at a time in a thread of
this process that waits on the trial's own ``clara train`` process. The controller
and handlers are called under one lock, as the SDK's engine called them; one that
raises (user code given by ``path``) stops the search with one line naming it
(:attr:`Search.failure`), the finished trials kept in the study.
"""

from __future__ import annotations

import collections
import os
import threading
import time
from typing import Any

from clara_core.automl.apply import concrete_config
from clara_core.automl.controllers import ASK, STUDY, OptunaController
from clara_core.automl.executor import TRIAL_ENV, Slot, key_metric, run_trial, slots, write_trial
from clara_core.automl.plan import SearchPlan
from clara_core.automl.sdk import Context, ContextKey, Outcome, Recommendation, Status
from clara_core.automl.space import concrete_values, distributions, sdk_space
from clara_core.automl.study import counts, fail_interrupted, finished, mark_interrupted, owner
from clara_core.errors import ClaraError
from clara_core.workflow.events import RunEvents

STATUS = {"complete": Status.OK, "pruned": Status.PRUNED, "failed": Status.ERROR,
          "interrupted": Status.INTERRUPTED}


class Search:
    """One ``clara automl`` process's part of a search (others may join the study)."""

    def __init__(self, plan: SearchPlan, study: Any, storage_label: str,
                 events: RunEvents | None = None) -> None:
        self.plan, self.study, self.storage_label = plan, study, storage_label
        self.events = events
        self.trial_env: dict[str, str] = {}  # what plugins asked every trial to get
        self.dists = distributions(plan.spec)
        self.ctx = Context()
        self.lock = threading.Condition()
        self.queue: collections.deque[Recommendation] = collections.deque()
        self.trials: dict[int, Any] = {}  # recommendation id -> Optuna trial
        self.running = 0
        self.interrupted = False
        #: why the search stopped early: a controller or handler that raised
        self.failure: str | None = None

    # -- the study's side --------------------------------------------------------------

    def ask(self, max_rounds: int) -> Any:
        """A new trial, or None when ``max_rounds`` trials are done or running."""
        fail_interrupted(self.study)  # a joined process that died: its trials run again
        if sum(map(counts, self.study.get_trials(deepcopy=False))) >= max_rounds:
            return None
        trial = self.study.ask(fixed_distributions=self.dists)
        before = [t for t in self.study.get_trials(deepcopy=False)
                  if t.number <= trial.number and counts(t)]
        if len(before) > max_rounds:  # another process took the last round meanwhile
            trial.set_user_attr("surplus", True)
            self.study.tell(trial, state=_state("FAIL"))
            return None
        self.trials[trial.number] = trial
        return trial

    def _trial_for(self, rec: Recommendation) -> Any:
        """The Optuna trial of a recommendation: the one the built-in controller asked
        for, or a trial enqueued with a user controller's values."""
        if isinstance(self.plan.controller, OptunaController):
            return self.trials.pop(rec.rec_id)
        self.study.enqueue_trial(dict(rec.result.values), user_attrs={"rec_id": rec.rec_id})
        return self.study.ask(fixed_distributions=self.dists)

    # -- the controller's and handlers' code -------------------------------------------

    def _user(self, obj: Any, method: str, *args: Any) -> Any:
        """``obj.method(*args)``: a controller's or handler's code, which may be the
        user's; what it raises becomes :class:`ComponentFailed` naming it."""
        try:
            return getattr(obj, method)(*args)
        except Exception as exc:
            cls = type(obj)
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise ComponentFailed(f"{cls.__name__} ({cls.__module__}).{method} raised "
                                  f"{type(exc).__name__}: {first}") from exc

    def _handlers(self, method: str, ctx: Context) -> None:
        for handler in self.plan.handlers:
            self._user(handler, method, ctx)

    def _fail(self, exc: Exception) -> None:
        """Stop the search for ``exc`` (the first failure is the one told)."""
        with self.lock:
            if self.failure is None:
                self.failure = str(exc) if isinstance(exc, ComponentFailed) else \
                    f"{type(exc).__name__}: {exc}"
            self.ctx.stop_work(self, self.failure)
            self.lock.notify_all()

    # -- running -----------------------------------------------------------------------

    def run(self) -> None:
        plan, ctx = self.plan, self.ctx
        ctx.set_prop(STUDY, self.study)
        ctx.set_prop(ASK, self.ask)
        ctx.set_prop(ContextKey.MMAR_ROOT, plan.mmar_root)
        ctx.set_prop(ContextKey.RUN_ROOT, plan.run_dir)
        ctx.set_prop(ContextKey.TRAIN_CONFIG_FILE, plan.train_config_path)
        ctx.set_prop("_scoredMmars", [(t.value, os.path.join(plan.run_dir, t.user_attrs["job"]))
                                      for t in finished(self.study)
                                      if t.value is not None and "job" in t.user_attrs])
        for number in fail_interrupted(self.study):
            print(f"automl: trial {number} was interrupted; it runs again", flush=True)
        threads: list[threading.Thread] = []
        try:
            self._handlers("startup", ctx)
            self._started()
            self._user(plan.controller, "set_search_space", sdk_space(plan.spec, plan.run_id),
                       ctx)
            self.queue.extend(self._user(plan.controller, "initial_recommendation", ctx))
            self._announce()
            threads = [threading.Thread(target=self._worker, args=(slot,), name=f"W{i + 1}")
                       for i, slot in enumerate(slots(plan.workers))]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
        except ComponentFailed as exc:
            self._fail(exc)
        except KeyboardInterrupt:
            self.interrupted = True
            self.ctx.stop_work(self, "interrupted")
            for thread in threads:
                thread.join()
            raise
        finally:
            for obj in (plan.controller, *plan.handlers):
                try:
                    self._user(obj, "shutdown", ctx)
                except ComponentFailed as exc:
                    self._fail(exc)
            self._ended()

    # -- run events for plugins (a tracker's search run) ----------------------------------

    def _started(self) -> None:
        if self.events is None:
            return
        plan = self.plan
        search = {"run_id": plan.run_id, "study": self.storage_label,
                  "train_config": plan.train_config_path,
                  "search_items": [item.prl for item in plan.spec.items],
                  "max_rounds": getattr(plan.controller, "max_rounds", None),
                  "workers": [w or "cpu" for w in plan.workers]}
        for env in self.events.call("clara_search_started", search=search):
            if isinstance(env, dict):
                self.trial_env.update({str(k): str(v) for k, v in env.items()})

    def _ended(self) -> None:
        if self.events is None:
            return
        done = finished(self.study)
        result: dict[str, Any] = {state: sum(t.state.name.lower() == state for t in done)
                                  for state in ("complete", "pruned", "fail")}
        result["failed"] = result.pop("fail")
        scored = [t for t in done if t.value is not None and t.state.name == "COMPLETE"]
        best = max(scored, key=lambda t: t.value) if scored else None
        result.update(best_score=best.value if best else None,
                      best_trial=best.number if best else None, interrupted=self.interrupted)
        self.events.call("clara_search_ended", result=result)

    def _announce(self) -> None:
        if self.queue:
            self.ctx.set_prop(ContextKey.RECOMMENDATIONS, list(self.queue))
            self._handlers("recommendations_available", self.ctx)

    def _next(self) -> Recommendation | None:
        with self.lock:
            while True:
                if self.ctx.stop_work_asked():
                    return None
                if self.queue:
                    self.running += 1
                    return self.queue.popleft()
                if isinstance(self.plan.controller, OptunaController):
                    recs: list[Recommendation] = self._user(
                        self.plan.controller, "initial_recommendation", self.ctx)
                    if recs:
                        self.running += 1
                        return recs[0]
                if self.running == 0:
                    return None
                self.lock.wait(1.0)

    def _worker(self, slot: Slot) -> None:
        try:
            rec = self._next()
        except Exception as exc:  # noqa: BLE001 (the search stops with one line)
            self._fail(exc)
            return
        while rec is not None:
            counted = True  # in self.running until this job's round has ended
            try:
                outcome = self._job(rec, slot)
                with self.lock:
                    self.running -= 1
                    counted = False
                    if not self.ctx.stop_work_asked():
                        self.queue.extend(self._user(self.plan.controller,
                                                     "refine_recommendation", outcome, self.ctx))
                        self._announce()
                    self._handlers("round_ended", self.ctx)
                    self.lock.notify_all()
                rec = self._next()
            except Exception as exc:  # noqa: BLE001 (the search stops with one line)
                with self.lock:
                    self.running -= counted
                self._fail(exc)
                return

    def _job(self, rec: Recommendation, slot: Slot) -> Outcome:
        plan = self.plan
        with self.lock:
            trial = self._trial_for(rec)
        point = dict(trial.params)
        job = f"trial_{trial.number:03d}"
        job_dir = os.path.join(plan.run_dir, job)
        config = concrete_config(plan.config, plan.spec, point)
        write_trial(job_dir, config, plan.env, plan.mmar_root)
        shown = {k.partition(":")[2]: v[0] if len(v) == 1 else v
                 for k, v in concrete_values(plan.spec, point).items()}
        for key, value in (("job", job), ("owner", owner()), ("heartbeat", time.time()),
                           ("gpu", slot.gpu or "cpu"), ("values", shown)):
            trial.set_user_attr(key, value)
        jctx = Context(self.ctx)
        props: tuple[tuple[str, Any], ...] = (
            (ContextKey.JOB_NAME, job), (ContextKey.JOB_MMAR_ROOT, job_dir),
            (ContextKey.CONCRETE_SEARCH_VALUE, concrete_values(plan.spec, point)),
            (ContextKey.SEARCH_RESULT, rec.result), (ContextKey.TRIAL_NUMBER, trial.number))
        for key, value in props:
            jctx.set_prop(key, value)
        with self.lock:
            self._handlers("start_job", jctx)
        if plan.traceout == "console":
            print(f"automl: {job} starts on {'GPU ' + slot.gpu if slot.gpu else 'CPU'}: "
                  f"{_show(concrete_values(plan.spec, point))}", flush=True)

        def report(score: float, epoch: int) -> bool:
            trial.report(score, epoch)
            return bool(trial.should_prune())

        result = run_trial(job_dir, slot, key_metric(config), report,
                           {**self.trial_env, TRIAL_ENV: f"{self.storage_label}#{trial.number}",
                            "CLARA_AUTOML_RUN_ID": plan.run_id},
                           plan.traceout == "console",
                           lambda: trial.set_user_attr("heartbeat", time.time()), plan.tracking)
        self._tell(trial, result)
        if self.events is not None:
            with self.lock:
                self.events.call("clara_trial_ended", trial=trial.number, job=job,
                                 state=result.state, score=result.score, values=shown,
                                 epochs=result.epochs)
        jctx.set_prop(ContextKey.SCORE, result.score)
        jctx.set_prop(ContextKey.JOB_STATUS, result.state)
        with self.lock:
            if result.score is not None and result.state == "complete":
                self.ctx.get_prop("_scoredMmars").append((result.score, job_dir))
            self._handlers("end_job", jctx)
        return Outcome(rec.rec_id, result.score, job, STATUS[result.state], rec.result)

    def _tell(self, trial: Any, result: Any) -> None:
        trial.set_user_attr("epochs", result.epochs)
        if result.error:
            trial.set_user_attr("error", result.error)
        if result.state == "complete":
            self.study.tell(trial, result.score)
        elif result.state == "pruned":
            self.study.tell(trial, state=_state("PRUNED"))
        elif result.state == "interrupted":
            mark_interrupted(self.study, trial)
        else:
            self.study.tell(trial, state=_state("FAIL"))


class ComponentFailed(ClaraError):
    """A controller or handler raised: the search stops, naming it."""


def _state(name: str) -> Any:
    from optuna.trial import TrialState

    return TrialState[name]


def _show(values: dict[str, list[Any]]) -> str:
    return ", ".join(f"{k.partition(':')[2]}={v[0] if len(v) == 1 else v}"
                     for k, v in values.items())


__all__ = ["ComponentFailed", "Search"]
