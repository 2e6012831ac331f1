"""``Trainer``: builds the components in the seed's order and runs training.

Build order (the seed's): training data pipeline, validation data pipeline,
placeholders, model, loss, optimizer, metrics. Each step sees in the
``BuildContext`` only what was built before it.

A run writes under ``MMAR_CKPT_DIR``: ``model_{latest,best,final}.weights.h5``,
the resume point (``train_state.json`` and its variables bundle, see
``clara_core.workflow.state``), ``metrics.jsonl``, TensorBoard ``logs/`` and
``training.png``. ``resume=True`` continues from the resume point, to the step;
``MMAR_CKPT`` (environment or ``--set``) fine-tunes from saved weights. The first
Ctrl-C stops at the next step boundary after writing a resume point.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.components.build_ctx import BuildContext
from clara_core.config.builder import BuiltConfig
from clara_core.errors import ClaraError
from clara_core.workflow.checkpoints import save_weights_atomic
from clara_core.workflow.events import RunState
from clara_core.workflow.export import save_model_atomic
from clara_core.workflow.layout import build_model_outputs
from clara_core.workflow.progress import TrainProgress
from clara_core.workflow.report import SliceExample, write_report_png
from clara_core.workflow.state import TrainState, load_resume_point, save_resume_point
from clara_core.workflow.step import main_output, make_train_step
from clara_core.workflow.validation import aux_op_values, validate


@dataclass
class TrainResult:
    epochs: int
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    best_key_metric: float | None = None
    checkpoint_dir: str = ""
    seconds: float = 0.0
    interrupted: bool = False
    start_epoch: int = 0
    picture: str | None = None


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
                 progress: bool | None = None) -> None:
        self.built = built
        self.strategy = strategy
        self.progress = progress
        self.cfg = built.loaded.config
        self.env = built.loaded.env
        self.log = log
        self.epochs = int(self.cfg.get("epochs", 1))
        self.valid_every = int(self.cfg.get("num_training_epoch_per_valid", 1))
        self.base_lr = float(self.cfg.get("learning_rate", 1e-4))
        self.seed = int(self.cfg.get("determinism", {}).get("random_seed", 0))
        self.ckpt_dir = built.loaded.path_in_mmar(str(self.env.get("MMAR_CKPT_DIR", "models")))
        self.ctx = BuildContext()
        self.valid_pipeline: Any = None
        self.inferer: Any = None
        self.example: SliceExample | None = None
        self._stop_requested = False
        self.handlers: list[Any] = []
        self.events = RunState(self.epochs, log=log)

    # -- build, in the seed's order --------------------------------------------------

    def build(self) -> None:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(self.seed)
        if "determinism" in self.cfg:
            tf.config.experimental.enable_op_determinism()
        root = self.built.loaded.mmar_root
        gpus = tf.config.list_logical_devices("GPU")
        if self.strategy is None:
            self.strategy = tf.distribute.MirroredStrategy() if self.cfg.get("multi_gpu") \
                else tf.distribute.get_strategy()
        self.ctx[BuildContext.KEY_STRATEGY] = self.strategy
        self.log(f"strategy: {type(self.strategy).__name__} over "
                 f"{self.strategy.num_replicas_in_sync} replica(s); GPUs visible: {len(gpus)}")

        train = self.built.sections["train"]
        self.train_pipeline = train["image_pipeline"]
        self.train_pipeline.set_root(root)
        self.train_pipeline.set_seed(self.seed)
        self.train_pipeline.set_transforms(train.get("pre_transforms", []))
        if hasattr(self.train_pipeline, "set_batch_transforms"):
            self.train_pipeline.set_batch_transforms(train.get("batch_transforms", []))
        self.train_pipeline.build(self.ctx)
        self.ctx[BuildContext.KEY_TRAIN_DATA_PIPELINE] = self.train_pipeline

        validate = self.built.sections.get("validate", {})
        self.valid_pipeline = validate.get("image_pipeline")
        if self.valid_pipeline is not None:
            self.valid_pipeline.set_root(root)
            self.valid_pipeline.set_seed(self.seed)
            self.valid_pipeline.set_transforms(validate.get("pre_transforms", []))
            self.ctx[BuildContext.KEY_VALID_DATA_PIPELINE] = self.valid_pipeline

        prop = self.ctx.must_get(BuildContext.KEY_DATA_PROP)
        first = prop.data_format == "channels_first"
        # the SDK's dynamic_input_shape: false fixes the input to the crop size
        dynamic = self.cfg.get("dynamic_input_shape", True)
        spatial = (None,) * len(prop.crop_shape) if dynamic else tuple(prop.crop_shape)
        image_shape = (prop.num_channels, *spatial) if first else (*spatial, prop.num_channels)
        label_shape = (prop.num_label_channels, *spatial) if first \
            else (*spatial, prop.num_label_channels)
        self.amp_dtype = self._amp_dtype(bool(gpus))
        if self.amp_dtype:
            keras.mixed_precision.set_global_policy(f"mixed_{self.amp_dtype}")
            self.log(f"mixed precision: {self.amp_dtype} compute, float32 variables")
        with self.strategy.scope():
            self.ctx[BuildContext.KEY_MODEL_INPUT] = keras.Input(image_shape, name="image")
            self.ctx[BuildContext.KEY_LABEL_INPUT] = keras.Input(label_shape, name="label")
            self.ctx[BuildContext.KEY_LEARNING_RATE] = self.base_lr
            self.ctx[BuildContext.KEY_IS_TRAIN] = True

            cpu_only = not gpus and first and self.cfg.get("cpu_channels_last", True)
            self.model_component, outputs = build_model_outputs(train["model"], self.ctx,
                                                                cpu_only, self.log)
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
        self.lr_policy = train.get("lr_policy")
        self.aux_ops = train.get("aux_ops", [])
        self.handlers = list(train.get("handlers", [])) + list(validate.get("handlers", []))
        self.metrics = validate.get("metrics", [])
        self.inferer = validate.get("inferer")
        if self.inferer is None:
            from clara_core.builtins.inferers import TFScanWindowInferer

            self.inferer = TFScanWindowInferer(roi_size=list(prop.crop_shape))
        self.log(f"model: {self.model.count_params():,} parameters; data: "
                 f"{self.train_pipeline.get_dataset_size()} training cases")
        self._build_step()

    def _amp_dtype(self, has_gpu: bool) -> str | None:
        if not self.cfg.get("use_amp"):
            return None
        dtype = str(self.cfg.get("amp_dtype") or ("float16" if has_gpu else "bfloat16"))
        if dtype not in ("float16", "bfloat16"):
            raise ClaraError(f"amp_dtype is {dtype!r}; use \"float16\" (GPUs) or "
                             "\"bfloat16\" (CPUs, recent GPUs and TPUs), or leave it out.")
        if dtype == "float16" and not has_gpu:
            raise ClaraError('amp_dtype "float16" needs a GPU: TensorFlow has no float16 '
                             "kernels for 3D pooling on CPUs. Use \"bfloat16\" (or leave "
                             "amp_dtype out to choose by hardware).")
        return dtype

    def predict(self, images: Any) -> Any:
        """The model's main output (deep-supervision outputs are for the loss only)."""
        return main_output(self.model(images, training=False))

    def _build_step(self) -> None:
        self.train_step = make_train_step(self.strategy, self.model, self.loss_component,
                                          self.optimizer, self.model_component, self.aux_ops,
                                          self.ctx)

    # -- validation ----------------------------------------------------------------------

    def validate(self) -> dict[str, float]:
        """Infer every validation case, update the metrics, write their reports."""
        prop = self.ctx.must_get(BuildContext.KEY_DATA_PROP)
        results, self.example = validate(self.predict, self.valid_pipeline, self.inferer,
                                         self.metrics, prop.data_format, self._report_dir,
                                         aux_op_values(self.loss_component, self.aux_ops,
                                                       self.ctx) if self.aux_ops else None)
        return results

    def _report_dir(self, metric: Any) -> str | None:
        """The metric's ``report_path``, else ``MMAR_EVAL_OUTPUT_PATH``; relative to the MMAR."""
        path = getattr(getattr(metric, "metric_list", None), "report_path", None) \
            or self.env.get("MMAR_EVAL_OUTPUT_PATH")
        return self.built.loaded.path_in_mmar(str(path)) if path else None

    # -- run -----------------------------------------------------------------------------

    def run(self, resume: bool = False) -> TrainResult:
        """Train from the start, from the resume point (``resume``) or from ``MMAR_CKPT``."""
        import tensorflow as tf

        self.build()
        os.makedirs(self.ckpt_dir, exist_ok=True)
        state = self._starting_state(resume)
        key = next((m for m in self.metrics if m.is_key_metric()), None)
        result = TrainResult(self.epochs, checkpoint_dir=self.ckpt_dir, losses=list(state.losses),
                             best_key_metric=state.best_key_metric, start_epoch=state.epoch)
        writer = tf.summary.create_file_writer(os.path.join(self.ckpt_dir, "logs"))
        records = self._records(up_to_epoch=state.epoch)
        start = time.perf_counter()
        previous_handler = self._catch_ctrl_c()
        try:
            with TrainProgress(self.epochs, state.epoch, self.progress) as bar:
                self.events = RunState(self.epochs, log=bar.log, epoch=state.epoch,
                                       key_metric=key.get_name() if key else None,
                                       best_key_metric=state.best_key_metric)
                self._emit("started")
                for epoch in range(state.epoch, self.epochs):
                    self.events.epoch, self.events.step = epoch + 1, state.step
                    self._emit("epoch_started")
                    record = self.train_epoch(epoch, state, bar)
                    if record is None:  # Ctrl-C: a resume point was written mid-epoch
                        result.interrupted = True
                        break
                    if self.valid_pipeline is not None and (
                            (epoch + 1) % self.valid_every == 0 or epoch + 1 == self.epochs):
                        result.metrics = self.validate()
                        record.update(result.metrics)
                        self._track_best(key, result, state)
                    result.losses.append(record["loss"])
                    state.epoch, state.step, state.step_losses = epoch + 1, 0, []
                    state.losses = list(result.losses)
                    state.lr_policy = self.lr_policy.get_state() if self.lr_policy else {}
                    save_weights_atomic(self.model, os.path.join(
                        self.ckpt_dir, "model_latest.weights.h5"))
                    save_resume_point(self.ckpt_dir, self.model, self.optimizer, state)
                    records.append(record)
                    self._log_epoch(record, writer, bar)
                    self.events.record = record
                    self.events.seconds = time.perf_counter() - start
                    self._emit("epoch_completed")
                    if self.events.stop:
                        bar.log(f"a handler stopped training after epoch {epoch + 1}")
                        break
                    if self._stop_requested:
                        result.interrupted = epoch + 1 < self.epochs
                        break
                self.events.seconds = time.perf_counter() - start
                self._emit("completed")
        finally:
            if previous_handler is not None:
                signal.signal(signal.SIGINT, previous_handler)
        if not result.interrupted:
            save_weights_atomic(self.model, os.path.join(self.ckpt_dir,
                                                         "model_final.weights.h5"))
            save_model_atomic(self.model, os.path.join(self.ckpt_dir, "model_final.keras"))
            result.picture = write_report_png(os.path.join(self.ckpt_dir, "training.png"),
                                              records, self.example,
                                              key.get_name() if key else None)
        result.seconds = time.perf_counter() - start
        self._report_bad_cases()
        return result

    def _emit(self, event: str) -> None:
        """Call ``event`` on every handler of the ``handlers`` sections."""
        for handler in self.handlers:
            getattr(handler, event)(self.events)

    def _report_bad_cases(self) -> None:
        """List the cases ``skip_bad_cases`` left out, so a skip is never silent."""
        for name, pipeline in (("training", self.train_pipeline),
                               ("validation", self.valid_pipeline)):
            lines = pipeline.bad_case_report() if hasattr(pipeline, "bad_case_report") else []
            if lines:
                self.log(f"skipped {len(lines)} bad {name} case(s):\n  " + "\n  ".join(lines))

    def _starting_state(self, resume: bool) -> TrainState:
        if resume:
            state = load_resume_point(self.ckpt_dir, self.model, self.optimizer)
            if self.lr_policy is not None and state.lr_policy:
                self.lr_policy.set_state(state.lr_policy)
            at = f"epoch {state.epoch + 1}" + (f", step {state.step + 1}" if state.step else "")
            self.log(f"resuming at {at} of {self.epochs} from {self.ckpt_dir}")
            if state.epoch >= self.epochs:
                self.log(f"that run already finished {state.epoch} epochs; raise `epochs` "
                         "(--set epochs=N) to train longer")
            return state
        pretrained = str(self.env.get("MMAR_CKPT", "") or "")
        if pretrained:
            self._load_pretrained(self.built.loaded.path_in_mmar(pretrained))
        log_path = os.path.join(self.ckpt_dir, "metrics.jsonl")
        if os.path.exists(log_path):
            os.remove(log_path)  # a new run starts a new log
        return TrainState(learning_rate=self.base_lr)

    def _load_pretrained(self, path: str) -> None:
        if os.path.isdir(path):
            found = [os.path.join(path, f"model_{k}.weights.h5") for k in ("best", "final",
                                                                           "latest")]
            path = next((p for p in found if os.path.exists(p)), found[0])
        if not os.path.exists(path):
            raise ClaraError(
                f"MMAR_CKPT points at {path}, which does not exist. Give a .weights.h5 file "
                "written by clara train (for example models/model_best.weights.h5) or its folder.")
        try:
            self.model.load_weights(path)
        except Exception as exc:
            raise ClaraError(
                f"Cannot fine-tune from {path}: its weights do not fit the model built from this "
                f"config ({type(exc).__name__}: {exc}). Use the same model name and arguments "
                "as the run that wrote it.") from exc
        self.log(f"fine-tuning from {path}")

    def _records(self, up_to_epoch: int) -> list[dict[str, Any]]:
        """Keep the metrics log of epochs the resume point covers, drop any later lines."""
        path = os.path.join(self.ckpt_dir, "metrics.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
        records = [r for r in records if r.get("epoch", 0) <= up_to_epoch]
        with open(path, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in records)
        return records

    def _catch_ctrl_c(self) -> Any:
        """First Ctrl-C: stop at the next step boundary, after a checkpoint. Second: now."""
        if threading.current_thread() is not threading.main_thread():
            return None

        def handler(signum: int, frame: Any) -> None:
            if self._stop_requested:
                raise KeyboardInterrupt
            self._stop_requested = True
            self.log("\nCtrl-C: stopping after this step and writing a checkpoint "
                     "(press Ctrl-C again to stop at once, without one)")

        return signal.signal(signal.SIGINT, handler)

    def train_epoch(self, epoch: int, state: TrainState, bar: TrainProgress,
                    dataset: Any = None) -> dict[str, Any] | None:
        """One epoch (from ``state.step`` when resuming mid-epoch); ``None`` if stopped.

        ``dataset`` (batches of ``(image, label)``) replaces the training pipeline's
        epoch, as the overhead benchmark does with preloaded batches.
        """
        lr = self.base_lr if self.lr_policy is None else \
            self.lr_policy.get_learning_rate(epoch, self.base_lr, self.epochs)
        self.optimizer.learning_rate.assign(lr)
        state.learning_rate = lr
        bar.start_epoch(epoch)
        t0 = time.perf_counter()
        batches: Any
        if dataset is None and self.strategy.num_replicas_in_sync == 1 \
                and hasattr(self.train_pipeline, "feed"):
            # one device: NumPy batches straight into the compiled step (tf.data's
            # generator bridge halved the crops/s, benchmarks/pipeline_vs_monai.py)
            batches = itertools.islice(self.train_pipeline.feed(epoch), state.step, None)
        else:
            if dataset is None:
                dataset = self.train_pipeline.get_dataset(epoch)
            if state.step:
                dataset = dataset.skip(state.step)
            batches = self.strategy.experimental_distribute_dataset(
                dataset.with_options(feed_options()))
        batch = self.train_pipeline.output_batch_size
        aux_values: dict[str, list[float]] = {op.tag: [] for op in self.aux_ops}
        for images, labels in batches:
            loss_tensor, aux = self.train_step(images, labels)
            loss = float(loss_tensor)
            for tag, value in aux.items():
                aux_values[tag].append(float(value))
            if not math.isfinite(loss):
                raise ClaraError(
                    f"Loss became {loss} at epoch {epoch + 1}, step {state.step + 1}; stopping. "
                    f"The last good checkpoint is in {self.ckpt_dir} (resume point of epoch "
                    f"{state.epoch}). Lower learning_rate, or check the data for NaN in "
                    "images or labels outside the class range.")
            state.step += 1
            state.step_losses.append(loss)
            self.events.step, self.events.loss = state.step, loss
            self._emit("iteration_completed")
            bar.step(loss, batch)
            if self._stop_requested:
                save_resume_point(self.ckpt_dir, self.model, self.optimizer, state)
                return None
        bar.end_epoch()
        record = {"epoch": epoch + 1, "loss": float(np.mean(state.step_losses)), "lr": lr,
                  "steps": len(state.step_losses), "seconds": round(time.perf_counter() - t0, 2)}
        record.update({tag: float(np.mean(v)) for tag, v in aux_values.items() if v})
        return record

    def _track_best(self, key: Any, result: TrainResult, state: TrainState) -> None:
        if key is None:
            return
        value = result.metrics[key.get_name()]
        if self.lr_policy is not None:
            self.lr_policy.update_metric(value)
        best = result.best_key_metric
        if math.isnan(value):
            return
        if best is None or (value > best if key.higher_is_better else value < best):
            result.best_key_metric = state.best_key_metric = value
            self.events.best_key_metric, self.events.best_epoch = value, state.epoch + 1
            save_weights_atomic(self.model, os.path.join(self.ckpt_dir, "model_best.weights.h5"))

    def _log_epoch(self, record: dict[str, Any], writer: Any, bar: TrainProgress) -> None:
        import tensorflow as tf

        with writer.as_default(step=record["epoch"]):
            for k, v in record.items():
                if isinstance(v, float):
                    tf.summary.scalar(k, v)
        writer.flush()
        with open(os.path.join(self.ckpt_dir, "metrics.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
        bar.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                         for k, v in record.items()))


__all__ = ["TrainResult", "Trainer"]
