"""``Trainer``: builds a train config's run and trains it.

The story of a run: :meth:`Trainer.build` returns the run's parts as one frozen
:class:`~clara_core.workflow.train_setup.TrainSetup`, built in the seed's order;
the starting state comes from the start, the resume point (``resume=True``, to the
step) or ``MMAR_CKPT`` (fine-tuning from saved weights); then the
:class:`~clara_core.workflow.epoch_loop.EpochLoop` trains, calling the handlers'
events, until the last epoch or the run's stop signal (a handler, Ctrl-C or SIGTERM,
or a peer worker's); at the end the final model and a picture are written.

A run writes into its :class:`~clara_core.mmar.run_folder.RunFolder`
(``MMAR_CKPT_DIR``): weights, the resume point, the metrics log, TensorBoard logs,
the final model and a picture; in a cluster only the chief does. The run's one
:class:`~clara_core.components.run_state.RunState` is what handlers see, what a
resume point saves and what :class:`TrainResult` is read from; its ``log`` prints
the run's lines.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.run_state import RunState
from clara_core.config.builder import BuiltConfig
from clara_core.config.settings import TrainSettings
from clara_core.errors import ClaraError
from clara_core.mmar.model_shapes import CheckedPredict
from clara_core.mmar.run_folder import RunFolder
from clara_core.mmar.trained_model import load_pretrained
from clara_core.workflow.case_loop import CaseLoop, aux_op_values
from clara_core.workflow.cluster import Cluster
from clara_core.workflow.epoch_loop import EpochLoop
from clara_core.workflow.events import RunEvents, plugin_hooks
from clara_core.workflow.interrupt import stop_on_signals
from clara_core.workflow.metrics_log import MetricsLog
from clara_core.workflow.out_of_memory import is_out_of_memory
from clara_core.workflow.progress import TrainProgress, say
from clara_core.workflow.report import SliceExample
from clara_core.workflow.resume_point import load_resume_point
from clara_core.workflow.train_setup import TrainSetup, build_setup


@dataclass
class TrainResult:
    """What ``clara train`` reports, read off the run's state at the end."""

    epochs: int
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    best_key_metric: float | None = None
    checkpoint_dir: str = ""
    seconds: float = 0.0
    interrupted: bool = False
    start_epoch: int = 0
    picture: str | None = None
    exit_code: int = 0  # 130 after Ctrl-C, 143 after SIGTERM, 2 after a failed hook
    error: str | None = None  # why a run failed (NaN loss, a plugin's hook), for hooks


class Trainer:
    """Runs ``train`` of a built config under a ``tf.distribute`` strategy (``strategy``,
    else the one the settings and ``cluster`` ask for). ``log`` prints the run's lines."""

    def __init__(self, built: BuiltConfig, log: Callable[[str], None] = say,
                 strategy: Any = None, progress: bool | None = None,
                 cluster: Cluster | None = None) -> None:
        if not isinstance(built.settings, TrainSettings):
            raise ClaraError(f"{built.loaded.config_path} is a validation config; train a "
                             "train config (with a train section), or run clara validate.")
        self.built, self.settings = built, built.settings
        self.strategy, self.progress, self.cluster = strategy, progress, cluster
        self.is_chief = cluster is None or cluster.is_chief  # only the chief writes files
        self.folder = RunFolder.of_mmar(built.loaded.mmar_root, built.loaded.env)
        self.out = self.folder  # where this process writes (a temporary one off the chief)
        self.state = RunState(
            self.settings.epochs, log=log, command="train", mmar=built.loaded.mmar_root,
            config_file=built.loaded.config_path, run_folder=self.folder.path,
            plugin_dir=self.folder.plugin_dir, tracking=tuple(self.settings.tracking))
        self.hooks = plugin_hooks(built.registry)  # the installed plugins' run events
        self.example: SliceExample | None = None
        self._checked: CheckedPredict | None = None
        #: after running out of memory: the resume point written, for the message
        self.resume_note: str | None = None

    def build(self) -> TrainSetup:
        """The run's parts, built in the seed's order (see :mod:`.train_setup`)."""
        return build_setup(self.built, self.folder, self.state.log, self.cluster,
                           self.strategy, self.out)

    # -- run -----------------------------------------------------------------------------

    def run(self, resume: bool = False) -> TrainResult:
        """Train from the start, from the resume point (``resume``) or from ``MMAR_CKPT``;
        one run at a time per run folder (only the chief of a cluster writes into it)."""
        if not self.is_chief:
            self.out = RunFolder(tempfile.mkdtemp(prefix="clara-worker-"))
        try:
            with self.out.locked():
                return self._run(resume)
        finally:
            if not self.is_chief:
                shutil.rmtree(self.out.path, ignore_errors=True)

    def _run(self, resume: bool) -> TrainResult:
        state = self.state
        removed = self.out.remove_temporaries()
        if removed:
            state.log(f"removed {len(removed)} unfinished file(s) of an interrupted write")
        setup = self.build()
        self._check_sizes(setup)
        self._starting_state(setup, resume)
        events = RunEvents(state, self.hooks, setup.handlers, chief=self.is_chief)
        start_epoch, t0 = state.epochs_done, time.perf_counter()
        metrics_log = MetricsLog(self.out)
        notice = metrics_log.start(state.losses, resume)
        if notice:
            state.log(notice)
        try:
            interrupted = self._train(setup, events, metrics_log, start_epoch, t0)
            picture = None if interrupted else self._final(setup, events, metrics_log)
        except ClaraError as exc:  # a run that fails still ends for its listeners
            events.call("clara_train_ended", result=self._result(
                start_epoch, t0, True, None, error=str(exc)))
            raise
        except Exception as exc:  # out of memory: keep the steps done, then the message
            if not is_out_of_memory(exc):
                raise
            self.resume_note = self._resume_after_oom(setup)
            events.call("clara_train_ended", result=self._result(
                start_epoch, t0, True, None, error=f"out of memory: {type(exc).__name__}"))
            raise
        self._report_bad_cases(setup)
        result = self._result(start_epoch, t0, interrupted, picture, error=events.failure)
        events.call("clara_train_ended", result=result)
        if events.failure:
            raise ClaraError(f"{events.failure}. " + (
                f"The run stopped with a resume point in {self.folder.path}: continue it "
                "with the same command and --resume." if interrupted else
                f"The run itself finished; its files are in {self.folder.path}."))
        return result

    def _resume_after_oom(self, setup: TrainSetup) -> str:
        """Write a resume point after the steps done since the last one (out of memory
        at a step leaves the variables at the last complete step); say where to go on."""
        state = self.state
        if state.step and self.is_chief:
            try:
                setup.checkpoints.resume_point(state)
            except Exception:  # noqa: BLE001 (no memory left to write it either)
                return "No resume point could be written (no memory left for it)."
        if not state.step and not state.epochs_done:
            return "No step had completed, so there is no resume point: start again."
        at = f"epoch {state.epochs_done + 1}" + (f", step {state.step + 1}" if state.step else "")
        return (f"A resume point at {at} is in {self.folder.path}: continue with the same "
                "command, the smaller values and --resume.")

    def _result(self, start_epoch: int, t0: float, interrupted: bool, picture: str | None,
                error: str | None = None) -> TrainResult:
        state = self.state
        return TrainResult(self.settings.epochs, list(state.losses), dict(state.metrics),
                           state.best_key_metric, self.folder.path, time.perf_counter() - t0,
                           interrupted, start_epoch, picture,
                           state.stop_signal.exit_code if interrupted else 0, error)

    def _final(self, setup: TrainSetup, events: RunEvents, metrics_log: MetricsLog
               ) -> str | None:
        """The final weights, model and picture (the picture's path on the chief)."""
        picture = setup.checkpoints.final(metrics_log.records, self.example,
                                          self.state.key_metric)
        if not self.is_chief:
            return None  # a worker's copy, removed with its temporary folder
        events.call("clara_checkpoint_saved", path=self.folder.weights("final"), kind="final")
        events.call("clara_checkpoint_saved", path=self.folder.keras_model, kind="model")
        return picture

    def _train(self, setup: TrainSetup, events: RunEvents, metrics_log: MetricsLog,
               start_epoch: int, t0: float) -> bool:
        """The run's events, from ``started`` to ``completed``, with the progress bar up
        (the run's log prints above it meanwhile); True when a signal cut it short."""
        state, log = self.state, self.state.log
        with stop_on_signals(state.stop_signal, log), TrainProgress(
                self.settings.epochs, start_epoch, self.progress, log=log) as bar:
            state.log = bar.log
            try:
                events.started(self.built.loaded.config)
                loop = EpochLoop(setup, state, metrics_log, bar,
                                 validate=lambda: self.validate(setup), events=events)
                interrupted = loop.run(t0)
                state.seconds = time.perf_counter() - t0
                events.completed()
            finally:
                state.log = log
        return interrupted

    def _starting_state(self, setup: TrainSetup, resume: bool) -> None:
        state = self.state
        state.learning_rate = self.settings.learning_rate
        state.key_metric = setup.key_metric
        if resume:
            load_resume_point(self.folder, setup.model, setup.optimizer, state)
            state.resumed = True
            if setup.lr_policy is not None and state.lr_policy:
                setup.lr_policy.set_state(state.lr_policy)
            at = f"epoch {state.epochs_done + 1}" + (
                f", step {state.step + 1}" if state.step else "")
            state.log(f"resuming at {at} of {state.epochs} from {self.folder.path}")
            if state.epochs_done >= state.epochs:
                state.log(f"that run already finished {state.epochs_done} epochs; raise "
                          "`epochs` (--set epochs=N) to train longer")
            return
        pretrained = str(self.built.loaded.env.get("MMAR_CKPT", "") or "")
        if pretrained:
            load_pretrained(setup.model, self.built.loaded.path_in_mmar(pretrained), state.log)

    def _report_bad_cases(self, setup: TrainSetup) -> None:
        """List the cases ``skip_bad_cases`` left out, so a skip is never silent."""
        for name, pipeline in (("training", setup.train_pipeline),
                               ("validation", setup.valid_pipeline)):
            lines = pipeline.bad_case_report() if pipeline is not None else []
            if lines:
                self.state.log(f"skipped {len(lines)} bad {name} case(s):\n  "
                               + "\n  ".join(lines))

    # -- validation ----------------------------------------------------------------------

    def validate(self, setup: TrainSetup) -> dict[str, float]:
        """Infer every validation case, update the metrics, write their reports."""
        assert setup.valid_pipeline is not None

        loop = CaseLoop(
            self._predict(setup), setup.inferer, setup.data_format,
            image_field=setup.valid_pipeline.image_field,
            label_field=setup.valid_pipeline.label_field, metrics=setup.metrics,
            case_values=aux_op_values(setup.loss, setup.aux_ops, setup.ctx)
            if setup.aux_ops else None, report_dir=self._report_dir)
        done = loop.run(setup.valid_pipeline.cases())
        self.example = done.example
        return done.metrics

    def _check_sizes(self, setup: TrainSetup) -> None:
        """A training crop or validation window the network cannot take is a message
        before the first step, not a shape error inside it."""
        sizes = self._predict(setup).sizes
        if sizes is None:
            return
        prop = setup.ctx.get(BuildContext.KEY_DATA_PROP)
        crop = tuple(getattr(prop, "crop_shape", ()) or ())
        if crop and all(isinstance(s, int) and s > 0 for s in crop) and sizes.is_free:
            sizes.check(crop, "the training crop",
                        "Set the size of the crop transform in train.pre_transforms (or the "
                        "network's depth).")
        roi = setup.inferer.get_roi_size() if setup.valid_pipeline is not None else None
        if roi:
            self._predict(setup).check(roi)

    def _predict(self, setup: TrainSetup) -> CheckedPredict:
        """The model's main output (deep-supervision outputs are for the loss only) for
        a window whose size the network takes; another size is a message."""
        if self._checked is None:
            self._checked = CheckedPredict(
                setup.model, "the validation window",
                "Set the validate inferer's roi_size (--set validate.inferer.args.roi_size="
                "[...]).")
        return self._checked

    def _report_dir(self, metric: Any) -> str | None:
        """The metric's ``report_path``, else ``MMAR_EVAL_OUTPUT_PATH``; relative to the MMAR."""
        if not self.is_chief:  # its reports would be copies
            return None
        path = metric.get_report_path() or self.built.loaded.env.get("MMAR_EVAL_OUTPUT_PATH")
        return self.built.loaded.path_in_mmar(str(path)) if path else None


__all__ = ["TrainResult", "Trainer"]
