"""``Trainer``: builds the components in the seed's order and runs training.

Build order (the seed's): training data pipeline, validation data pipeline,
placeholders, model, loss, optimizer, metrics. Each step sees in the
``BuildContext`` only what was built before it.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.components.build_ctx import BuildContext
from clara_core.config.builder import BuiltConfig
from clara_core.errors import ClaraError
from clara_core.workflow.checkpoints import atomic_write_json, save_weights_atomic


@dataclass
class TrainResult:
    epochs: int
    losses: list[float] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    best_key_metric: float | None = None
    checkpoint_dir: str = ""
    seconds: float = 0.0


class Trainer:
    """Runs ``train`` of a built config under a ``tf.distribute`` strategy."""

    def __init__(self, built: BuiltConfig, log: Any = print) -> None:
        self.built = built
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

    # -- build, in the seed's order --------------------------------------------------

    def build(self) -> None:
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(self.seed)
        root = self.built.loaded.mmar_root
        gpus = tf.config.list_logical_devices("GPU")
        if self.cfg.get("multi_gpu"):
            self.strategy = tf.distribute.MirroredStrategy()
        else:
            self.strategy = tf.distribute.get_strategy()
        self.ctx[BuildContext.KEY_STRATEGY] = self.strategy
        self.log(f"strategy: {type(self.strategy).__name__} over "
                 f"{self.strategy.num_replicas_in_sync} replica(s); GPUs visible: {len(gpus)}")

        train = self.built.sections["train"]
        self.train_pipeline = train["image_pipeline"]
        self.train_pipeline.set_root(root)
        self.train_pipeline.set_seed(self.seed)
        self.train_pipeline.set_transforms(train.get("pre_transforms", []))
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
        spatial = (None,) * len(prop.crop_shape)
        image_shape = (prop.num_channels, *spatial) if first else (*spatial, prop.num_channels)
        label_shape = (prop.num_label_channels, *spatial) if first \
            else (*spatial, prop.num_label_channels)
        with self.strategy.scope():
            self.ctx[BuildContext.KEY_MODEL_INPUT] = keras.Input(image_shape, name="image")
            self.ctx[BuildContext.KEY_LABEL_INPUT] = keras.Input(label_shape, name="label")
            self.ctx[BuildContext.KEY_LEARNING_RATE] = self.base_lr
            self.ctx[BuildContext.KEY_IS_TRAIN] = True

            self.model_component = train["model"]
            outputs = self.model_component.build(self.ctx)
            self.model = outputs if isinstance(outputs, keras.Model) else keras.Model(
                self.ctx[BuildContext.KEY_MODEL_INPUT], outputs, name="clara_model")
            self.ctx[BuildContext.KEY_MODEL] = self.model

            self.loss_component = train["loss"]
            self.ctx[BuildContext.KEY_LOSS] = self.loss_component
            self.optimizer = train["optimizer"].build(self.ctx)
            # Keras 3 optimizers must create their slots inside the scope, before tracing.
            self.optimizer.build(self.model.trainable_variables)
            self.ctx[BuildContext.KEY_OPTIMIZER] = self.optimizer
        self.lr_policy = train.get("lr_policy")
        self.metrics = validate.get("metrics", [])
        self.inferer = validate.get("inferer")
        if self.inferer is None:
            from clara_core.builtins.inferers import TFScanWindowInferer

            self.inferer = TFScanWindowInferer(roi_size=list(prop.crop_shape))
        self.log(f"model: {self.model.count_params():,} parameters; data: "
                 f"{self.train_pipeline.get_dataset_size()} training cases")
        self._build_step()

    def _build_step(self) -> None:
        import tensorflow as tf

        model, loss_c, opt, ctx = self.model, self.loss_component, self.optimizer, self.ctx
        extra = self.model_component
        replicas = self.strategy.num_replicas_in_sync

        def step(images: Any, labels: Any) -> Any:
            with tf.GradientTape() as tape:
                predictions = model(images, training=True)
                loss = tf.cast(loss_c.get_loss(predictions, labels, ctx), tf.float32)
                loss += tf.cast(extra.get_loss(), tf.float32)
                if model.losses:
                    loss += tf.add_n([tf.cast(v, tf.float32) for v in model.losses])
                scaled = loss / replicas
            grads = tape.gradient(scaled, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss

        @tf.function  # type: ignore[untyped-decorator]
        def distributed_step(images: Any, labels: Any) -> Any:
            per_replica = self.strategy.run(step, args=(images, labels))
            return self.strategy.reduce(tf.distribute.ReduceOp.MEAN, per_replica, axis=None)

        self.train_step = distributed_step

    # -- run ---------------------------------------------------------------------------

    def validate(self) -> dict[str, float]:
        prop = self.ctx.must_get(BuildContext.KEY_DATA_PROP)
        first = prop.data_format == "channels_first"
        for m in self.metrics:
            m.reset()
        for case in self.valid_pipeline.cases():
            image = case.get_image(self.valid_pipeline.image_field)
            x = image.get_data()[None].astype(np.float32)
            if not first:
                x = np.moveaxis(x, 1, -1)
            pred = self.inferer.infer(lambda b: self.model(b, training=False), x,
                                      prop.data_format)
            pred = pred[0] if first else np.moveaxis(pred[0], -1, 0)
            case.set_image("model", image.new_image(pred, image.get_shape_format()))
            name = os.path.basename(str(image.get_property("filename", "case")))
            for m in self.metrics:
                m.update(case, name)
        results = {m.get_name(): m.get() for m in self.metrics}
        for m in self.metrics:
            m.write_report()
            per_class = getattr(m, "class_means", None)
            if per_class:
                results.update({f"{m.get_name()}_class{c}": v for c, v in per_class.items()})
        return results

    def run(self) -> TrainResult:
        import tensorflow as tf

        self.build()
        os.makedirs(self.ckpt_dir, exist_ok=True)
        writer = tf.summary.create_file_writer(os.path.join(self.ckpt_dir, "logs"))
        log_path = os.path.join(self.ckpt_dir, "metrics.jsonl")
        key = next((m for m in self.metrics if m.is_key_metric()), None)
        result = TrainResult(self.epochs, checkpoint_dir=self.ckpt_dir)
        start = time.perf_counter()
        with open(log_path, "a") as log_file:
            for epoch in range(self.epochs):
                lr = self.base_lr if self.lr_policy is None else \
                    self.lr_policy.get_learning_rate(epoch, self.base_lr, self.epochs)
                self.optimizer.learning_rate.assign(lr)
                t0, losses = time.perf_counter(), []
                dataset = self.strategy.experimental_distribute_dataset(
                    self.train_pipeline.get_dataset(epoch))
                for images, labels in dataset:
                    loss = float(self.train_step(images, labels))
                    if not math.isfinite(loss):
                        raise ClaraError(
                            f"Loss became {loss} at epoch {epoch + 1}; stopping. The last good "
                            f"checkpoint is in {self.ckpt_dir}. Lower learning_rate or check "
                            "the data (NaN in images, labels outside the class range).")
                    losses.append(loss)
                mean_loss = float(np.mean(losses)) if losses else float("nan")
                result.losses.append(mean_loss)
                record: dict[str, Any] = {"epoch": epoch + 1, "loss": mean_loss, "lr": lr,
                                          "steps": len(losses),
                                          "seconds": round(time.perf_counter() - t0, 2)}
                if self.valid_pipeline is not None and (
                        (epoch + 1) % self.valid_every == 0 or epoch + 1 == self.epochs):
                    metrics = self.validate()
                    record.update(metrics)
                    result.metrics = metrics
                    if key is not None:
                        value = metrics[key.get_name()]
                        if self.lr_policy is not None:
                            self.lr_policy.update_metric(value)
                        if result.best_key_metric is None or value > result.best_key_metric:
                            result.best_key_metric = value
                            save_weights_atomic(self.model, os.path.join(
                                self.ckpt_dir, "model_best.weights.h5"))
                save_weights_atomic(self.model, os.path.join(self.ckpt_dir,
                                                             "model_latest.weights.h5"))
                atomic_write_json(os.path.join(self.ckpt_dir, "train_state.json"),
                                  {"epoch": epoch + 1, "learning_rate": lr,
                                   "best_key_metric": result.best_key_metric})
                with writer.as_default(step=epoch + 1):
                    for k, v in record.items():
                        if isinstance(v, float) and k != "epoch":
                            tf.summary.scalar(k, v)
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
                self.log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                  for k, v in record.items()))
        save_weights_atomic(self.model, os.path.join(self.ckpt_dir, "model_final.weights.h5"))
        result.seconds = time.perf_counter() - start
        return result


__all__ = ["TrainResult", "Trainer"]
