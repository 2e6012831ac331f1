"""Conformance checks. Each takes a component and raises AssertionError with a fix."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from clara_core.components.aux_op import AuxOp
from clara_core.components.base import Component
from clara_core.components.handler import Handler
from clara_core.components.inferer import Inferer
from clara_core.components.loss import Loss
from clara_core.components.lr_policy import LearningRatePolicy
from clara_core.components.metric import Metric
from clara_core.components.model import Model, main_output
from clara_core.components.pipeline import DataPipeline
from clara_core.components.transform import Transformer
from clara_core.components.writer import Writer
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext
from clara_core.testing.io_checks import (
    check_aux_op_contract,
    check_inferer_contract,
    check_loader_declaration,
    check_writer_contract,
)
from clara_core.testing.run_checks import (
    check_handler_events,
    check_lr_policy_state_roundtrip,
    check_pipeline_same_seed_same_batches,
)
from clara_core.testing.transform_checks import (
    check_bad_input_clear_error,
    check_declared_fields,
    check_geometry_consistent,
    check_is_deterministic_honest,
    check_probability_zero_is_identity,
    check_same_seed_same_output,
)

Check = Callable[[Any], None]


def check_get_config_roundtrip(component: Any) -> None:
    """``get_config()`` is JSON and ``from_config`` rebuilds a component with the same config."""
    name = type(component).__name__
    config = component.get_config()
    try:
        text = json.dumps(config)
    except TypeError as exc:
        raise AssertionError(f"{name}.get_config() is not JSON-serialisable ({exc}): store "
                             "constructor arguments as given (numbers, strings, lists).") from None
    rebuilt = type(component).from_config(json.loads(text))
    again = rebuilt.get_config()
    assert json.dumps(again, sort_keys=True) == json.dumps(config, sort_keys=True), (
        f"{name}.from_config(get_config()) gives config {again}, expected {config}: the "
        "constructor must accept exactly what get_config() returns."
    )


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from clara_core.registry.registry import Registry

    return Registry()


def check_name_resolves(component: Any) -> None:
    """The component's class is registered under a ``clara.*`` entry point and resolves."""
    registry = _registry()
    cls = type(component)
    target = f"{cls.__module__}:{cls.__qualname__}"
    for entry in registry.entries():
        if entry.target == target or entry.target is cls:
            resolved = registry.resolve(entry.kind, entry.qualified_name)
            assert resolved is cls, (f"{entry.describe()} resolves to {resolved!r}, "
                                     f"not {cls!r}.")
            return
    raise AssertionError(
        f"{cls.__name__} ({target}) is not registered under any clara.* entry point: add "
        f'{cls.__name__} = "{target}" to [project.entry-points."clara.<kind>"] in your '
        "pyproject.toml and reinstall the distribution."
    )


LossInputs = dict[str, tuple[np.ndarray, np.ndarray]]


def default_loss_inputs(loss: Any, seed: int = 0) -> LossInputs:
    """Logits and targets for a loss: ``(2, 3, 8, 8, 8)`` segmentation logits in the
    loss's ``get_data_format()`` (random, all background, one class everywhere), or
    ``(4, 3)`` classification logits with class indices when it has none. Targets
    are one-hot when the loss's config says ``is_onehot_targets``. The check applies
    softmax (in float16 for the ``float16`` case)."""
    rng = np.random.default_rng(seed)
    fmt = loss.get_data_format()
    if fmt is None:
        return {"random": (rng.normal(size=(4, 3)), rng.integers(0, 3, size=4)),
                "one_class": (rng.normal(size=(4, 3)), np.zeros(4, np.int64))}
    logits = rng.normal(scale=2.0, size=(2, 3, 8, 8, 8))
    label_maps = {"random": rng.integers(0, 3, size=(2, 1, 8, 8, 8)),
                  "empty_classes": np.zeros((2, 1, 8, 8, 8), np.int64),
                  "one_class_everywhere": np.full((2, 1, 8, 8, 8), 2)}
    out: LossInputs = {}
    for case, y in label_maps.items():
        onehot = loss.get_config().get("is_onehot_targets") is True
        target = np.moveaxis(np.eye(3)[y[:, 0]], -1, 1) if onehot else y
        z = logits
        if fmt == "channels_last":
            z, target = np.moveaxis(z, 1, -1), np.moveaxis(target, 1, -1)
        out[case] = (z, target.astype(np.float32))
    out["float16"] = out["random"]
    return out


def check_loss_contract(component: Any, sample: Callable[[Any], LossInputs] | None = None
                        ) -> None:
    """A loss gives a finite float32 scalar with finite gradients, on edge cases too
    (empty classes, one class everywhere) and for float16 predictions."""
    import tensorflow as tf

    name = type(component).__name__
    inputs = (sample or default_loss_inputs)(component)
    for case, (logits, target) in inputs.items():
        axis = 1 if component.get_data_format() == "channels_first" else -1
        dtype = tf.float16 if case == "float16" else tf.float32
        z = tf.Variable(tf.constant(logits, tf.float32))
        with tf.GradientTape() as tape:
            predictions = tf.nn.softmax(tf.cast(z, dtype), axis=axis)
            loss = component.get_loss(predictions, tf.constant(target))
        assert tuple(loss.shape) == (), (
            f"{name}.get_loss() on {case!r} inputs has shape {tuple(loss.shape)}: return a "
            "scalar (reduce over batch and voxels).")
        assert loss.dtype == tf.float32, (
            f"{name}.get_loss() on {case!r} inputs is {loss.dtype.name}: cast predictions to "
            "float32 first, so the loss is float32 under mixed precision.")
        assert np.isfinite(float(loss)), (
            f"{name}.get_loss() is {float(loss)} on {case!r} inputs: guard divisions and logs "
            "(smoothing terms, clipping) so empty classes give a finite loss.")
        grad = tape.gradient(loss, z)
        assert grad is not None and bool(tf.reduce_all(tf.math.is_finite(grad))), (
            f"{name}: the gradient on {case!r} inputs is not finite everywhere: check for "
            "divisions by zero and log(0) in the backward pass.")


MetricCases = dict[str, TransformContext]


def default_metric_inputs(metric: Any, seed: int = 0) -> MetricCases:
    """Segmentation cases for a metric with a ``label_field`` (random masks, both empty,
    prediction empty, single voxels), else a scalar in ``field``."""
    rng = np.random.default_rng(seed)
    field, label_field = metric.field, metric.label_field
    if not label_field:
        return {"scalar": TransformContext({field: 0.5})}

    def case(pred: np.ndarray, label: np.ndarray) -> TransformContext:
        ctx = TransformContext()
        ctx.set_image(field, MedicalImage(pred[None].astype(np.float32), "CDHW"))
        image = MedicalImage(label[None].astype(np.float32), "CDHW")
        image.set_property("spacing", [1.0, 1.0, 2.0])
        ctx.set_image(label_field, image)
        return ctx

    shape = (12, 12, 8)
    single = np.zeros(shape)
    single[3, 4, 5] = 1
    return {"random": case(rng.integers(0, 3, shape), rng.integers(0, 3, shape)),
            "both_empty": case(np.zeros(shape), np.zeros(shape)),
            "prediction_empty": case(np.zeros(shape), rng.integers(0, 2, shape)),
            "single_voxels": case(single, np.roll(single, 2, axis=0))}


def check_metric_contract(component: Any, sample: Callable[[Any], MetricCases] | None = None
                          ) -> None:
    """A metric takes every edge case without raising, ``get()`` is a float, and its
    report files (summary and per-case) list every case."""
    import tempfile

    name = type(component).__name__
    cases = (sample or default_metric_inputs)(component)
    component.reset()
    for case, ctx in cases.items():
        try:
            component.update(ctx, case)
        except Exception as exc:
            raise AssertionError(
                f"{name}.update() raised on the {case!r} case: {type(exc).__name__}: {exc}. "
                "Return None (or invalid_value) for cases where the metric is undefined."
            ) from exc
    value = component.get()
    assert isinstance(value, float), (
        f"{name}.get() returned {type(value).__name__}; return a Python float.")
    with tempfile.TemporaryDirectory() as folder:
        paths = component.write_report(folder)
        assert paths, f"{name}.write_report(folder) wrote nothing: write the summary and raw files."
        raw = [p for p in paths if p.endswith("_raw.csv")]
        assert raw, f"{name}.write_report() wrote no <name>_raw.csv per-case report."
        with open(raw[0]) as f:
            rows = f.read().splitlines()[1:]
        assert len(rows) == len(cases), (
            f"{name}'s raw report has {len(rows)} rows for {len(cases)} cases: add one value "
            "(or invalid_value) per case.")
    component.reset()


def default_model_input(model: Any, seed: int = 0) -> np.ndarray:
    """Two 16^3 one-channel volumes in the model's ``get_data_format()``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, 16, 16, 16, 1)).astype(np.float32)
    return np.moveaxis(x, -1, 1) if model.get_data_format() == "channels_first" else x


def _keras_model(component: Any, x: np.ndarray) -> Any:
    import keras

    from clara_core.components.build_ctx import BuildContext

    keras.utils.set_random_seed(0)
    ctx = BuildContext()
    ctx[BuildContext.KEY_MODEL_INPUT] = keras.Input(x.shape[1:])
    ctx[BuildContext.KEY_IS_TRAIN] = True
    out = component.build(ctx)
    return out if isinstance(out, keras.Model) else keras.Model(
        ctx[BuildContext.KEY_MODEL_INPUT], out)


def _format_variants(component: Model, x: np.ndarray) -> list[tuple[Model, np.ndarray]]:
    """The model and input as given, and, when the model has a data format, its twin
    in the other format (:meth:`Model.with_data_format`) with the input moved."""
    name, fmt = type(component).__name__, component.get_data_format()
    if fmt is None:
        return [(component, x)]
    other = "channels_last" if fmt == "channels_first" else "channels_first"
    twin = component.with_data_format(other)
    assert twin is not None, (
        f"{name}.with_data_format({other!r}) returned None: the engine runs channels_first "
        "models as their channels_last twin on CPUs. Take data_format as a constructor "
        "argument, or override with_data_format.")
    assert twin.get_data_format() == other, (
        f"{name}.with_data_format({other!r}) gives a model whose get_data_format() is "
        f"{twin.get_data_format()!r}.")
    moved = np.moveaxis(x, 1, -1) if fmt == "channels_first" else np.moveaxis(x, -1, 1)
    return [(component, x), (twin, moved)]


def check_model_output_shape(component: Any,
                             sample: Callable[[Any], np.ndarray] | None = None) -> None:
    """In its data format and, rebuilt by ``with_data_format``, in the other, the model
    maps a batch to ``get_num_classes()`` channels at the input's spatial size
    (segmentation) or to ``(batch, num_classes)`` (classification)."""
    name = type(component).__name__
    classes = component.get_num_classes()
    assert classes is not None, (
        f"{name}.get_num_classes() is None: the engine checks label values against it. "
        "Take num_classes as a constructor argument, or override get_num_classes.")
    x = (sample or default_model_input)(component)
    for model, batch in _format_variants(component, x):
        data_format = model.get_data_format()
        out = main_output(_keras_model(model, batch)(batch))
        if len(out.shape) == 2:
            expected: tuple[int | None, ...] = (batch.shape[0], classes)
        else:
            first = data_format == "channels_first"
            spatial = batch.shape[2:] if first else batch.shape[1:-1]
            expected = ((batch.shape[0], classes, *spatial) if first
                        else (batch.shape[0], *spatial, classes))
        assert tuple(out.shape) == expected, (
            f"{name}({data_format}) maps input {batch.shape} to {tuple(out.shape)}, expected "
            f"{expected}: keep the spatial size (pad, or document the divisor) and end with "
            "num_classes channels in the model's data_format.")


def check_model_learns(component: Any,
                       sample: Callable[[Any], np.ndarray] | None = None) -> None:
    """Ten Adam steps on one fixed batch lower a mean-squared error to fixed targets
    (every output, deep-supervision outputs included)."""
    import keras
    import tensorflow as tf

    name = type(component).__name__
    x = (sample or default_model_input)(component)
    model = _keras_model(component, x)
    outputs = model(x)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    rng = np.random.default_rng(1)
    targets = [tf.constant(rng.random(o.shape), tf.float32) for o in outputs]
    optimizer = keras.optimizers.Adam(1e-3)

    def loss_value() -> Any:
        out = model(x, training=True)
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        return tf.add_n([tf.reduce_mean((tf.cast(o, tf.float32) - t) ** 2)
                         for o, t in zip(out, targets, strict=True)])

    before = float(loss_value())
    for _ in range(10):
        with tf.GradientTape() as tape:
            loss = loss_value()
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    after = float(loss_value())
    assert after < before, (
        f"{name}: ten Adam steps did not lower the loss on a fixed batch ({before:.5f} -> "
        f"{after:.5f}): check that every layer is connected and trainable.")


def check_model_save_reload(component: Any,
                            sample: Callable[[Any], np.ndarray] | None = None) -> None:
    """``.keras`` save and reload, and a SavedModel export loaded back with
    ``tf.saved_model.load``, predict the same as the model."""
    import tempfile

    import keras
    import tensorflow as tf

    name = type(component).__name__
    x = (sample or default_model_input)(component)
    model = _keras_model(component, x)
    a = np.asarray(main_output(model(x, training=False)))
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/model.keras"
        model.save(path)
        reloaded = keras.models.load_model(path)
        b = np.asarray(main_output(reloaded(x, training=False)))
        assert np.allclose(a, b, atol=1e-6), (
            f"{name}: predictions differ after .keras save and reload (max difference "
            f"{np.abs(a - b).max():.3g}): build the network from Keras layers only, or "
            "register custom layers with keras.saving.register_keras_serializable.")
        model.export(f"{folder}/saved", format="tf_saved_model", verbose=False)
        loaded = tf.saved_model.load(f"{folder}/saved")  # keep: serve needs its variables
        served = np.asarray(main_output(loaded.serve(x)))
    assert np.allclose(a, served, atol=1e-5), (
        f"{name}: the exported SavedModel predicts differently from the model (max "
        f"difference {np.abs(a - served).max():.3g}).")


def checks_for(component: Any) -> list[Check]:
    """The checks that apply to ``component``'s kind."""
    checks: list[Check] = []
    if isinstance(component, Component):
        checks += [check_get_config_roundtrip, check_name_resolves]
    if isinstance(component, Transformer):
        checks += [check_is_deterministic_honest, check_same_seed_same_output,
                   check_probability_zero_is_identity, check_geometry_consistent,
                   check_bad_input_clear_error, check_declared_fields]
        if component.is_loader:
            checks.append(check_loader_declaration)
    kinds: list[tuple[type, list[Check]]] = [
        (Loss, [check_loss_contract]),
        (Metric, [check_metric_contract]),
        (Model, [check_model_output_shape, check_model_learns, check_model_save_reload]),
        (DataPipeline, [check_pipeline_same_seed_same_batches]),
        (LearningRatePolicy, [check_lr_policy_state_roundtrip]),
        (Handler, [check_handler_events]),
        (Inferer, [check_inferer_contract]),
        (AuxOp, [check_aux_op_contract]),
        (Writer, [check_writer_contract]),
    ]
    for base, kind_checks in kinds:
        if isinstance(component, base):
            checks += kind_checks
    return checks

