"""``Trainer``: builds the components in the seed's order and runs training.

Build order (the seed's): training data pipeline, validation data pipeline,
placeholders, model, loss, optimizer, metrics. Each step sees in the
``BuildContext`` only what was built before it.

A run writes into its :class:`~clara_core.workflow.run_folder.RunFolder`
(``MMAR_CKPT_DIR``): weights, the resume point, the metrics log, TensorBoard logs,
the final model and a picture. ``resume=True`` continues from the resume point, to
the step; ``MMAR_CKPT`` (environment or ``--set``) fine-tunes from saved weights.
The first Ctrl-C stops at the next step boundary after writing a resume point.
The run's one :class:`~clara_core.components.run_state.RunState` is what handlers
see, what a resume point saves and what :class:`TrainResult` is read from.
"""

from __future__ import annotations

import itertools
import math
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.components.build_ctx import BuildContext
from clara_core.components.model import main_output
from clara_core.components.pipeline import DataPipeline
from clara_core.components.run_state import RunState
from clara_core.config.builder import BuiltConfig
from clara_core.config.settings import TrainSettings
from clara_core.errors import ClaraError
from clara_core.workflow.case_loop import CaseLoop, aux_op_values
from clara_core.workflow.checkpointer import Checkpointer
from clara_core.workflow.checkpoints import load_pretrained
from clara_core.workflow.cluster import Cluster
from clara_core.workflow.compute_layout import build_model_outputs
from clara_core.workflow.interrupt import StopRequest
from clara_core.workflow.metrics_log import MetricsLog, format_record
from clara_core.workflow.placement import Placement
from clara_core.workflow.progress import TrainProgress
from clara_core.workflow.report import SliceExample
from clara_core.workflow.run_folder import RunFolder
from clara_core.workflow.runtime import amp_dtype, has_gpu, seed_everything
from clara_core.workflow.state import load_resume_point
from clara_core.workflow.step import make_train_step


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
    exit_code: int = 0  # 130 after Ctrl-C, 143 after SIGTERM


def feed_options() -> Any:
    """``tf.data`` options for the training feed: autotuning off.

    The pipeline sets its own worker count and prefetch depth. Left on, tf.data's
    autotuner adds threads that compete with the train step for the CPU: on a
    2-core machine steps were up to 40% slower (benchmarks/train_overhead.py).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


class Trainer:
    """Runs ``train`` of a built config under a ``tf.distribute`` strategy."""

    def __init__(self, built: BuiltConfig, log: Any = print, strategy: Any = None,
                 progress: bool | None = None, cluster: Cluster | None = None) -> None:
        if not isinstance(built.settings, TrainSettings):
            raise ClaraError(f"{built.loaded.config_path} is a validation config; train a "
                             "train config (with a train section), or run clara validate.")
        self.built, self.settings, self.log = built, built.settings, log
        self.strategy, self.progress, self.cluster = strategy, progress, cluster
        self.folder = RunFolder.of_mmar(built.loaded.mmar_root, built.loaded.env)
        self.out = self.folder  # where this process writes (a temporary one off the chief)
        self.ctx = BuildContext()
        self.state = RunState(self.settings.epochs, log=log)
        self.example: SliceExample | None = None
        self.interrupt = StopRequest(log)
        self._log: MetricsLog | None = None  # the run's log, once a run starts
        self._iteration = 0  # optimizer steps, for train_summary_recording_interval

    # -- build, in the seed's order --------------------------------------------------

    def build(self) -> None:
        for notice in self.built.notices:
            self.log(notice)
        gpu = has_gpu()
        self._choose_strategy(gpu)  # first: a multi-worker strategy configures TensorFlow
        seed_everything(self.settings)
        self._wire_pipelines()
        self._build_model_and_optimizer(gpu)
        self._take_run_components()
        self.train_step = make_train_step(self.strategy, self.model, self.loss_component,
                                          self.optimizer, self.model_component, self.aux_ops,
                                          self.ctx)

    def _choose_strategy(self, gpu: bool) -> None:
        self.placement = Placement.create(self.settings, self.cluster, gpu, self.strategy)
        self.strategy = self.placement.strategy
        self.ctx[BuildContext.KEY_STRATEGY] = self.strategy
        self.log(self.placement.describe(gpu))

    def _set_up(self, pipeline: DataPipeline, transforms: list[Any]) -> None:
        pipeline.set_root(self.built.loaded.mmar_root)
        pipeline.set_seed(self.settings.seed)
        pipeline.set_transforms(transforms)
        num_classes = self.built.sections["train"]["model"].get_config().get("num_classes")
        pipeline.set_num_classes(num_classes if isinstance(num_classes, int) else None)

    def _wire_pipelines(self) -> None:
        """The training pipeline, built (it records the data property), then the
        validation pipeline."""
        train = self.built.sections["train"]
        self.train_pipeline: DataPipeline = train["image_pipeline"]
        self._set_up(self.train_pipeline, train.get("pre_transforms", []))
        self.train_pipeline.set_batch_transforms(train.get("batch_transforms", []))
        replicas = self.placement.num_replicas
        self.sharded = replicas > 1 and self.train_pipeline.set_shard(
            self.placement.local_replicas, replicas)
        if replicas > 1 and not self.sharded:
            self.log(f"{type(self.train_pipeline).__name__} does not shard its cases, so "
                     "every worker reads all of them; the engine splits its global batches")
        self.train_pipeline.build(self.ctx)
        self.ctx[BuildContext.KEY_TRAIN_DATA_PIPELINE] = self.train_pipeline
        validate = self.built.sections.get("validate", {})
        self.valid_pipeline: DataPipeline | None = validate.get("image_pipeline")
        if self.valid_pipeline is not None:
            self._set_up(self.valid_pipeline, validate.get("pre_transforms", []))
            self.valid_pipeline.check_cases()  # a bad validation case stops us now
            self.ctx[BuildContext.KEY_VALID_DATA_PIPELINE] = self.valid_pipeline

    def _input_shapes(self) -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
        """The model's image and label input shapes (without the batch axis)."""
        prop = self.ctx.must_get(BuildContext.KEY_DATA_PROP)
        # the SDK's dynamic_input_shape: false fixes the input to the crop size
        spatial: tuple[int | None, ...] = (None,) * len(prop.crop_shape) \
            if self.settings.dynamic_input_shape else tuple(prop.crop_shape)
        if prop.data_format == "channels_first":
            return (prop.num_channels, *spatial), (prop.num_label_channels, *spatial)
        return (*spatial, prop.num_channels), (*spatial, prop.num_label_channels)

    def _build_model_and_optimizer(self, gpu: bool) -> None:
        """Placeholders, model, loss and optimizer, under the strategy's scope."""
        import keras

        image_shape, label_shape = self._input_shapes()
        self.amp_dtype = amp_dtype(self.settings, gpu)
        if self.amp_dtype:
            keras.mixed_precision.set_global_policy(f"mixed_{self.amp_dtype}")
            self.log(f"mixed precision: {self.amp_dtype} compute, float32 variables")
        first = self.ctx[BuildContext.KEY_DATA_PROP].data_format == "channels_first"
        train = self.built.sections["train"]
        with self.strategy.scope():
            self.ctx[BuildContext.KEY_MODEL_INPUT] = keras.Input(image_shape, name="image")
            self.ctx[BuildContext.KEY_LABEL_INPUT] = keras.Input(label_shape, name="label")
            self.ctx[BuildContext.KEY_LEARNING_RATE] = self.settings.learning_rate
            self.ctx[BuildContext.KEY_IS_TRAIN] = True
            cpu_last = not gpu and first and self.settings.cpu_channels_last
            self.model_component, outputs = build_model_outputs(train["model"], self.ctx,
                                                                cpu_last, self.log)
            self.model = outputs if isinstance(outputs, keras.Model) else keras.Model(
                self.ctx[BuildContext.KEY_MODEL_INPUT], outputs, name="clara_model")
            self.ctx[BuildContext.KEY_MODEL] = self.model
            self.loss_component = train["loss"]
            self.ctx[BuildContext.KEY_LOSS] = self.loss_component
            self.optimizer = train["optimizer"].build(self.ctx)
            if self.amp_dtype == "float16":  # bfloat16 has float32's range: no scaling
                self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
            # Keras 3 optimizers must create their slots inside the scope, before tracing.
            self.optimizer.build(self.model.trainable_variables)
            self.ctx[BuildContext.KEY_OPTIMIZER] = self.optimizer
        keras.mixed_precision.set_global_policy("float32")  # the policy applies at build
        self.checkpoints = Checkpointer(self.out, self.model, self.optimizer)

    def _take_run_components(self) -> None:
        """The components the run loop uses: lr policy, training metrics, handlers,
        validation metrics and inferer."""
        from clara_core.builtins.inferers import TFScanWindowInferer

        train = self.built.sections["train"]
        validate = self.built.sections.get("validate", {})
        self.lr_policy = train.get("lr_policy")
        self.aux_ops = [*train.get("aux_ops", []), *train.get("metrics", [])]
        self.handlers = [*train.get("handlers", []), *validate.get("handlers", [])]
        self.metrics = validate.get("metrics", [])
        key = next((m for m in self.metrics if m.is_key_metric()), None)
        self.state.key_metric = key.get_name() if key else None
        self.key_higher_is_better = key.higher_is_better if key else True
        prop = self.ctx.must_get(BuildContext.KEY_DATA_PROP)
        self.inferer = validate.get("inferer") or TFScanWindowInferer(
            roi_size=list(prop.crop_shape))
        share = f" (this worker trains on {self.train_pipeline.get_shard_size()})" \
            if self.sharded and self.cluster is not None else ""
        self.log(f"model: {self.model.count_params():,} parameters; data: "
                 f"{self.train_pipeline.get_dataset_size()} training cases{share}")

    # -- validation ----------------------------------------------------------------------

    def predict(self, images: Any) -> Any:
        """The model's main output (deep-supervision outputs are for the loss only)."""
        return main_output(self.model(images, training=False))

    def validate(self) -> dict[str, float]:
        """Infer every validation case, update the metrics, write their reports."""
        assert self.valid_pipeline is not None
        loop = CaseLoop(
            self.predict, self.inferer, self.ctx.must_get(BuildContext.KEY_DATA_PROP).data_format,
            image_field=self.valid_pipeline.image_field,
            label_field=self.valid_pipeline.label_field, metrics=self.metrics,
            case_values=aux_op_values(self.loss_component, self.aux_ops, self.ctx)
            if self.aux_ops else None, report_dir=self._report_dir)
        done = loop.run(self.valid_pipeline.cases())
        self.example = done.example
        return done.metrics

    def _report_dir(self, metric: Any) -> str | None:
        """The metric's ``report_path``, else ``MMAR_EVAL_OUTPUT_PATH``; relative to the MMAR."""
        if self.out is not self.folder:  # not the chief: its reports would be copies
            return None
        path = metric.get_report_path() or self.built.loaded.env.get("MMAR_EVAL_OUTPUT_PATH")
        return self.built.loaded.path_in_mmar(str(path)) if path else None

    def _validation_due(self, epoch: int) -> bool:
        every = self.settings.num_training_epoch_per_valid
        return self.valid_pipeline is not None and (
            (epoch + 1) % every == 0 or epoch + 1 == self.settings.epochs)

    # -- run -----------------------------------------------------------------------------

    def run(self, resume: bool = False) -> TrainResult:
        """Train from the start, from the resume point (``resume``) or from ``MMAR_CKPT``;
        one run at a time per run folder (only the chief of a cluster writes into it)."""
        chief = self.cluster is None or self.cluster.is_chief
        if not chief:
            self.out = RunFolder(tempfile.mkdtemp(prefix="clara-worker-"))
        try:
            with self.out.locked():
                return self._run(resume)
        finally:
            if not chief:
                shutil.rmtree(self.out.path, ignore_errors=True)

    def _run(self, resume: bool) -> TrainResult:
        removed = self.out.remove_temporaries()
        if removed:
            self.log(f"removed {len(removed)} unfinished file(s) of an interrupted write")
        self.build()
        self._starting_state(resume)
        start_epoch, t0 = self.state.epochs_done, time.perf_counter()
        self._log = log = MetricsLog(self.out)
        self._iteration = int(self.optimizer.iterations.numpy())  # a MirroredVariable too
        notice = log.start(self.state.losses, resume)
        if notice:
            self.log(notice)
        with self.interrupt.catching(), TrainProgress(self.settings.epochs, start_epoch,
                                                 self.progress) as bar:
            self.state.log = bar.log
            self._emit("started")
            interrupted = self._train_epochs_of_worker(log, bar, t0)
            self.state.seconds = time.perf_counter() - t0
            self._emit("completed")
        picture = None if interrupted else self.checkpoints.final(
            log.records, self.example, self.state.key_metric)
        if self.out is not self.folder:
            picture = None  # a worker's copy, removed with its temporary folder
        self._report_bad_cases()
        s = self.state
        return TrainResult(self.settings.epochs, list(s.losses), dict(s.metrics),
                           s.best_key_metric, self.folder.path, time.perf_counter() - t0,
                           interrupted, start_epoch, picture,
                           self.interrupt.exit_code if interrupted else 0)

    def _train_epochs_of_worker(self, log: MetricsLog, bar: TrainProgress, t0: float) -> bool:
        """:meth:`_train_epochs`; in a cluster, a failed collective (a worker died or
        stopped answering) ends the run with a message naming the worker."""
        if self.cluster is None:
            return self._train_epochs(log, bar, t0)
        import tensorflow as tf

        try:
            return self._train_epochs(log, bar, t0)
        except tf.errors.OpError as exc:
            raise self.placement.peer_failure(exc) from exc

    def _train_epochs(self, log: MetricsLog, bar: TrainProgress, t0: float) -> bool:
        """The epoch loop; True when Ctrl-C interrupted it before the last epoch."""
        state = self.state
        for epoch in range(state.epochs_done, self.settings.epochs):
            state.start_epoch()
            self._emit("epoch_started")
            record = self.train_epoch(epoch, bar)
            if record is None:  # Ctrl-C: a resume point was written mid-epoch
                return True
            if self._validation_due(epoch):
                state.metrics = self.validate()
                record.update(state.metrics)
                self._track_best()
            state.complete_epoch(record)
            state.lr_policy = self.lr_policy.get_state() if self.lr_policy else {}
            log.append(record)  # durable before the resume point that covers it
            self.checkpoints.epoch(state)
            bar.log(format_record(record))
            state.seconds = time.perf_counter() - t0
            self._emit("epoch_completed")
            if state.stop:
                bar.log(f"a handler stopped training after epoch {epoch + 1}")
                return False
            if self.interrupt.requested and self.cluster is None:  # a cluster stops at a
                return epoch + 1 < self.settings.epochs  # step, where all workers agree
        return False

    def _emit(self, event: str) -> None:
        """Call ``event`` on every handler of the ``handlers`` sections."""
        for handler in self.handlers:
            getattr(handler, event)(self.state)

    def _report_bad_cases(self) -> None:
        """List the cases ``skip_bad_cases`` left out, so a skip is never silent."""
        for name, pipeline in (("training", self.train_pipeline),
                               ("validation", self.valid_pipeline)):
            lines = pipeline.bad_case_report() if pipeline is not None else []
            if lines:
                self.log(f"skipped {len(lines)} bad {name} case(s):\n  " + "\n  ".join(lines))

    def _starting_state(self, resume: bool) -> None:
        self.state.learning_rate = self.settings.learning_rate
        if resume:
            load_resume_point(self.folder, self.model, self.optimizer, self.state)
            if self.lr_policy is not None and self.state.lr_policy:
                self.lr_policy.set_state(self.state.lr_policy)
            s = self.state
            at = f"epoch {s.epochs_done + 1}" + (f", step {s.step + 1}" if s.step else "")
            self.log(f"resuming at {at} of {s.epochs} from {self.folder.path}")
            if s.epochs_done >= s.epochs:
                self.log(f"that run already finished {s.epochs_done} epochs; raise `epochs` "
                         "(--set epochs=N) to train longer")
            return
        pretrained = str(self.built.loaded.env.get("MMAR_CKPT", "") or "")
        if pretrained:
            load_pretrained(self.model, self.built.loaded.path_in_mmar(pretrained), self.log)

    def _batches(self, epoch: int, dataset: Any) -> Any:
        """The epoch's batches from the step a resumed run continues at."""
        step = self.state.step
        if dataset is None and self.strategy.num_replicas_in_sync == 1:
            # one device: NumPy batches straight into the compiled step (tf.data's
            # generator bridge halved the crops/s, benchmarks/pipeline_vs_monai.py)
            return itertools.islice(self.train_pipeline.feed(epoch), step, None)
        if dataset is None and self.sharded:  # each replica its own cases, same steps
            feed = itertools.islice(self.train_pipeline.replica_feed(epoch), step, None)
            return (self.placement.distribute(per_replica) for per_replica in feed)
        if dataset is None:
            dataset = self.train_pipeline.get_dataset(epoch)
        if step:
            dataset = dataset.skip(step)
        return self.strategy.experimental_distribute_dataset(dataset.with_options(
            feed_options()))

    def train_epoch(self, epoch: int, bar: TrainProgress,
                    dataset: Any = None) -> dict[str, Any] | None:
        """One epoch (from ``state.step`` when resuming mid-epoch); ``None`` if stopped.

        ``dataset`` (batches of ``(image, label)``) replaces the training pipeline's
        epoch, as the overhead benchmark does with preloaded batches.
        """
        state = self.state
        lr = self.settings.learning_rate if self.lr_policy is None else \
            self.lr_policy.get_learning_rate(epoch, self.settings.learning_rate,
                                             self.settings.epochs)
        self.optimizer.learning_rate.assign(lr)
        state.learning_rate = lr
        bar.start_epoch(epoch)
        t0 = time.perf_counter()
        self._aux_values: dict[str, list[float]] = {
            tag: [] for op in self.aux_ops for tag in op.output_tags()}
        # A step's loss is read back after the next step is dispatched, so the host never
        # waits on the device between steps; the NaN check and the stop still fall at
        # the step they concern.
        pending = None
        for images, labels in self._batches(epoch, dataset):
            done = self.train_step(images, labels, self._stop_flag())
            if pending is not None and self._settle(epoch, pending, bar):
                self._settle(epoch, done, bar)  # dispatched already: count it, then stop
                self.checkpoints.resume_point(state)
                return None
            pending = done
        if pending is not None and self._settle(epoch, pending, bar):
            self.checkpoints.resume_point(state)
            return None
        bar.end_epoch()
        record = {"epoch": epoch + 1, "loss": float(np.mean(state.step_losses)), "lr": lr,
                  "steps": len(state.step_losses), "seconds": round(time.perf_counter() - t0, 2)}
        record.update({tag: float(np.mean(v)) for tag, v in self._aux_values.items() if v})
        return record

    def _stop_flag(self) -> Any:
        """1 once this process was asked to stop: the step sums it over every worker."""
        import tensorflow as tf

        return tf.constant(1.0 if self.interrupt.requested else 0.0)

    def _settle(self, epoch: int, done: tuple[Any, Any, Any], bar: TrainProgress) -> bool:
        """Read back a dispatched step: record its loss, stop on NaN; True when this
        step carried a stop request of any worker (all of them see it at this step)."""
        state = self.state
        loss_tensor, aux, stops = done
        loss = float(loss_tensor)
        for tag, value in aux.items():
            self._aux_values[tag].append(float(value))
        if not math.isfinite(loss):
            raise ClaraError(
                f"Loss became {loss} at epoch {epoch + 1}, step {state.step + 1}; stopping. "
                f"The last good checkpoint is in {self.folder.path} (resume point of "
                f"epoch {state.epochs_done}). Lower learning_rate, or check the data for "
                "NaN in images or labels outside the class range.")
        state.step += 1
        state.step_losses.append(loss)
        state.loss = loss
        self._iteration += 1
        interval = self.settings.train_summary_recording_interval
        if interval and self._log is not None and self._iteration % interval == 0:
            self._log.step(self._iteration, {"loss": loss, **{
                tag: values[-1] for tag, values in self._aux_values.items()}})
        self._emit("iteration_completed")
        bar.step(loss, self.train_pipeline.get_batch_size())
        if float(stops) == 0:  # every worker decides on the summed flag, at one step
            return False
        if not self.interrupt.requested:
            self.interrupt.stop_for_peer()
        return True

    def _track_best(self) -> None:
        """After a validation: feed the lr policy and keep the best weights."""
        s = self.state
        if s.key_metric is None:
            return
        value = s.metrics[s.key_metric]
        if self.lr_policy is not None:
            self.lr_policy.update_metric(value)
        if math.isnan(value):
            return
        best = s.best_key_metric
        if best is None or (value > best if self.key_higher_is_better else value < best):
            s.best_key_metric, s.best_epoch = value, s.epoch
            self.checkpoints.best()


__all__ = ["TrainResult", "Trainer"]
