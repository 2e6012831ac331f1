"""``TrainSetup``: everything a training run is made of, built once, in the seed's order.

Build order (the seed's): training data pipeline, validation data pipeline,
placeholders, model, loss, optimizer, metrics. Each step sees in the
``BuildContext`` only what was built before it. :func:`build_setup` returns the
parts as one frozen :class:`TrainSetup`; the run
(:class:`~clara_core.workflow.epoch_loop.EpochLoop`) only reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.pipeline import DataPipeline
from clara_core.config.builder import BuiltConfig
from clara_core.config.settings import TrainSettings
from clara_core.data.image_pipeline import ImagePipeline
from clara_core.mmar.run_folder import RunFolder
from clara_core.workflow.checkpointer import Checkpointer
from clara_core.workflow.cluster import Cluster
from clara_core.workflow.compute_layout import build_model_outputs
from clara_core.workflow.handler_list import HandlerList
from clara_core.workflow.placement import Placement
from clara_core.workflow.runtime import amp_dtype, has_gpu, seed_everything
from clara_core.workflow.step import make_train_step

Log = Callable[[str], None]


@dataclass(frozen=True)
class TrainSetup:
    """The built parts of a training run."""

    settings: TrainSettings
    folder: RunFolder  # the run folder (the chief's; this process writes to checkpoints')
    placement: Placement  # the strategy, the cluster, this process's replicas
    ctx: BuildContext
    train_pipeline: DataPipeline
    valid_pipeline: DataPipeline | None
    sharded: bool  # each replica reads its own cases
    amp_dtype: str | None
    model_component: Any
    model: Any  # the keras.Model
    loss: Any  # the Loss component
    optimizer: Any
    train_step: Callable[[Any, Any, Any], Any]
    lr_policy: Any
    aux_ops: list[Any]  # the train section's aux ops and training metrics
    handlers: HandlerList
    metrics: list[Any]  # validation metrics
    key_metric: str | None
    key_higher_is_better: bool
    inferer: Any  # the validation inferer
    checkpoints: Checkpointer

    @property
    def strategy(self) -> Any:
        return self.placement.strategy

    @property
    def data_format(self) -> Any:
        return self.ctx.must_get(BuildContext.KEY_DATA_PROP).data_format


@dataclass(frozen=True)
class _Pipelines:
    train: DataPipeline
    valid: DataPipeline | None
    sharded: bool


@dataclass(frozen=True)
class _Network:
    amp_dtype: str | None
    model_component: Any
    model: Any
    loss: Any
    optimizer: Any


def build_setup(built: BuiltConfig, folder: RunFolder, log: Log, cluster: Cluster | None = None,
                strategy: Any = None, out: RunFolder | None = None) -> TrainSetup:
    """Build a train config's run in ``folder``; this process writes its checkpoints to
    ``out`` (default: ``folder``; a temporary folder on a worker that is not the chief)."""
    settings = built.settings
    assert isinstance(settings, TrainSettings)
    for notice in built.notices:
        log(notice)
    gpu = has_gpu()
    ctx = BuildContext()
    # first: a multi-worker strategy configures TensorFlow
    placement = Placement.create(settings, cluster, gpu, strategy)
    ctx[BuildContext.KEY_STRATEGY] = placement.strategy
    log(placement.describe(gpu))
    seed_everything(settings)
    pipelines = _wire_pipelines(built, settings, placement, ctx, log)
    net = _build_network(built, settings, placement.strategy, ctx, gpu, log)
    train = built.sections["train"]
    validate = built.sections.get("validate", {})
    aux_ops = [*train.get("aux_ops", []), *train.get("metrics", [])]
    metrics = validate.get("metrics", [])
    key = next((m for m in metrics if m.is_key_metric()), None)
    setup = TrainSetup(
        settings, folder, placement, ctx, pipelines.train, pipelines.valid, pipelines.sharded,
        net.amp_dtype, net.model_component, net.model, net.loss, net.optimizer,
        make_train_step(placement.strategy, net.model, net.loss, net.optimizer,
                        net.model_component, aux_ops, ctx),
        train.get("lr_policy"), aux_ops,
        HandlerList([*train.get("handlers", []), *validate.get("handlers", [])]),
        metrics, key.get_name() if key else None, key.higher_is_better if key else True,
        validate.get("inferer") or _default_inferer(ctx),
        Checkpointer(out or folder, net.model, net.optimizer))
    share = f" (this worker trains on {setup.train_pipeline.get_shard_size()})" \
        if setup.sharded and cluster is not None else ""
    pipeline = setup.train_pipeline
    note = pipeline.batch_note() if isinstance(pipeline, ImagePipeline) else None
    log(f"model: {setup.model.count_params():,} parameters; data: "
        f"{pipeline.get_dataset_size()} training cases{share}" + (f", {note}" if note else ""))
    return setup


def _default_inferer(ctx: BuildContext) -> Any:
    from clara_core.builtins.inferers import TFScanWindowInferer

    prop = ctx.must_get(BuildContext.KEY_DATA_PROP)
    return TFScanWindowInferer(roi_size=list(prop.crop_shape))


def _set_up(built: BuiltConfig, settings: TrainSettings, pipeline: DataPipeline,
            transforms: list[Any]) -> None:
    pipeline.set_root(built.loaded.mmar_root)
    pipeline.set_seed(settings.seed)
    pipeline.set_transforms(transforms)
    # the model's class count: the pipelines one-hot labels with it
    pipeline.set_num_classes(built.sections["train"]["model"].get_num_classes())


def _wire_pipelines(built: BuiltConfig, settings: TrainSettings, placement: Placement,
                    ctx: BuildContext, log: Log) -> _Pipelines:
    """The training pipeline, built (it records the data property), then the
    validation pipeline."""
    train = built.sections["train"]
    train_pipeline: DataPipeline = train["image_pipeline"]
    _set_up(built, settings, train_pipeline, train.get("pre_transforms", []))
    train_pipeline.set_batch_transforms(train.get("batch_transforms", []))
    replicas = placement.num_replicas
    sharded = replicas > 1 and train_pipeline.set_shard(placement.local_replicas, replicas)
    if replicas > 1 and not sharded:
        log(f"{type(train_pipeline).__name__} does not shard its cases, so every worker "
            "reads all of them; the engine splits its global batches")
    train_pipeline.build(ctx)
    ctx[BuildContext.KEY_TRAIN_DATA_PIPELINE] = train_pipeline
    validate = built.sections.get("validate", {})
    valid_pipeline: DataPipeline | None = validate.get("image_pipeline")
    if valid_pipeline is not None:
        _set_up(built, settings, valid_pipeline, validate.get("pre_transforms", []))
        valid_pipeline.check_cases()  # a bad validation case stops us now
        ctx[BuildContext.KEY_VALID_DATA_PIPELINE] = valid_pipeline
    return _Pipelines(train_pipeline, valid_pipeline, sharded)


def _input_shapes(free: bool, ctx: BuildContext
                  ) -> tuple[tuple[int | None, ...], tuple[int | None, ...]]:
    """The model's image and label input shapes (without the batch axis): ``free``
    spatial axes, or fixed to the crop size."""
    prop = ctx.must_get(BuildContext.KEY_DATA_PROP)
    spatial: tuple[int | None, ...] = (None,) * len(prop.crop_shape) \
        if free else tuple(prop.crop_shape)
    if prop.data_format == "channels_first":
        return (prop.num_channels, *spatial), (prop.num_label_channels, *spatial)
    return (*spatial, prop.num_channels), (*spatial, prop.num_label_channels)


def _build_model(configured: Any, settings: TrainSettings, ctx: BuildContext, cpu_last: bool,
                 log: Log) -> tuple[Any, Any]:
    """``(component used, keras.Model)``. The input's spatial axes are free, so the
    model file takes any window size; the SDK's ``dynamic_input_shape: false`` fixes
    them to the crop size only for a network that cannot be built otherwise (a
    ``Dense`` head after ``Flatten``, a VAE branch)."""
    import keras

    def build(free: bool) -> tuple[Any, Any]:
        image_shape, label_shape = _input_shapes(free, ctx)
        ctx[BuildContext.KEY_MODEL_INPUT] = keras.Input(image_shape, name="image")
        ctx[BuildContext.KEY_LABEL_INPUT] = keras.Input(label_shape, name="label")
        component, outputs = build_model_outputs(configured, ctx, cpu_last, log)
        return component, outputs if isinstance(outputs, keras.Model) else keras.Model(
            ctx[BuildContext.KEY_MODEL_INPUT], outputs, name="clara_model")

    if settings.dynamic_input_shape:
        return build(True)
    try:
        built = build(True)
    except Exception as exc:  # the network needs a fixed size: the SDK's meaning
        crop = "x".join(str(s) for s in ctx.must_get(BuildContext.KEY_DATA_PROP).crop_shape)
        why = next((line for line in str(exc).splitlines() if line.strip()), "")[:160]
        log(f"dynamic_input_shape false: the model input is fixed to the crop size {crop} "
            f"(the network needs a fixed size: {why})")
        return build(False)
    log("dynamic_input_shape false: the network is fully convolutional, so the model keeps "
        "free spatial axes (a validation or inference window of another size works)")
    return built


def _build_network(built: BuiltConfig, settings: TrainSettings, strategy: Any,
                   ctx: BuildContext, gpu: bool, log: Log) -> _Network:
    """Placeholders, model, loss and optimizer, under the strategy's scope."""
    import keras

    amp = amp_dtype(settings, gpu)
    if amp:
        keras.mixed_precision.set_global_policy(f"mixed_{amp}")
        log(f"mixed precision: {amp} compute, float32 variables")
    first = ctx[BuildContext.KEY_DATA_PROP].data_format == "channels_first"
    train = built.sections["train"]
    with strategy.scope():
        ctx[BuildContext.KEY_LEARNING_RATE] = settings.learning_rate
        ctx[BuildContext.KEY_IS_TRAIN] = True
        cpu_last = not gpu and first and settings.cpu_channels_last
        component, model = _build_model(train["model"], settings, ctx, cpu_last, log)
        ctx[BuildContext.KEY_MODEL] = model
        loss = train["loss"]
        ctx[BuildContext.KEY_LOSS] = loss
        optimizer = train["optimizer"].build(ctx)
        if amp == "float16":  # bfloat16 has float32's range: no scaling
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        # Keras 3 optimizers must create their slots inside the scope, before tracing.
        optimizer.build(model.trainable_variables)
        ctx[BuildContext.KEY_OPTIMIZER] = optimizer
    keras.mixed_precision.set_global_policy("float32")  # the policy applies at build
    return _Network(amp, component, model, loss, optimizer)


__all__ = ["TrainSetup", "build_setup"]
