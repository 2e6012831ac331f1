"""Validation: infer every case of the validation pipeline, update the metrics, write
their reports, and keep the first case for the end-of-run picture."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clara_core.workflow.report import SliceExample

CaseValues = Callable[[np.ndarray, np.ndarray], dict[str, float]]


def validate(predict: Callable[[Any], Any], pipeline: Any, inferer: Any,
             metrics: Sequence[Any], data_format: str,
             report_dir: Callable[[Any], str | None],
             case_values: CaseValues | None = None) -> tuple[dict[str, float],
                                                            SliceExample | None]:
    """``({metric: value, metric_classN: value}, first case)`` over the pipeline's cases.

    ``case_values(prediction, label)`` (batched, in ``data_format``) adds fields to each
    case before the metrics see it: the aux ops' values under their tags, which the
    SDK's ``ComputeAverage`` metrics read (``NegLoss`` -> ``"negloss"``).
    """
    first = data_format == "channels_first"
    for m in metrics:
        m.reset()
    example = None
    for case in pipeline.cases():
        image = case.get_image(pipeline.image_field)
        x = image.get_data()[None].astype(np.float32)
        if not first:
            x = np.moveaxis(x, 1, -1)
        batched = inferer.infer(predict, x, data_format)
        pred = batched[0]
        label = case.get(pipeline.label_field)
        if case_values is not None and label is not None:
            y = np.asarray(label.get_data() if hasattr(label, "get_data") else label,
                           np.float32)[None]
            if not first and y.ndim == batched.ndim:
                y = np.moveaxis(y, 1, -1)
            for key, value in case_values(batched, y).items():
                case[key] = value
        spatial = pred.ndim == image.get_data().ndim  # segmentation, not class scores
        if spatial:
            pred = pred if first else np.moveaxis(pred, -1, 0)
            case.set_image("model", image.new_image(pred, image.get_shape_format()))
        else:
            case["model"] = pred
        name = os.path.basename(str(image.get_property("filename", "case")))
        for m in metrics:
            m.update(case, name)
        if example is None and spatial:
            example = slice_example(case, pipeline.label_field, name, image.get_data(), pred)
    results = {m.get_name(): m.get() for m in metrics}
    for m in metrics:
        m.write_report(report_dir(m))
        per_class = getattr(m, "class_means", None)
        if per_class:
            results.update({f"{m.get_name()}_class{c}": v for c, v in per_class.items()})
    return results, example


def aux_op_values(loss: Any, aux_ops: Sequence[Any], build_ctx: Any) -> CaseValues:
    """``case_values`` for :func:`validate`: the loss and each aux op on one whole
    validation case, by tag."""

    def values(prediction: np.ndarray, label: np.ndarray) -> dict[str, float]:
        import tensorflow as tf

        from clara_core.components.build_ctx import BuildContext

        ctx = BuildContext(build_ctx)
        pred, y = tf.constant(prediction), tf.constant(label)
        ctx[BuildContext.KEY_PREDICTIONS] = pred
        ctx[BuildContext.KEY_LABEL_INPUT] = y
        ctx[BuildContext.KEY_LOSS_VALUE] = tf.cast(loss.get_loss(pred, y, ctx), tf.float32)
        return {op.tag: float(op.get_value(ctx)) for op in aux_ops}

    return values


def slice_example(case: Any, label_field: str, name: str, image: np.ndarray,
                  pred: np.ndarray) -> SliceExample:
    labels = pred.argmax(axis=0) if pred.shape[0] > 1 else (pred[0] > 0.5)
    label = case.get_image(label_field).get_data()[0] if label_field in case else None
    return SliceExample(name, image, label, labels.astype(np.uint8))


__all__ = ["aux_op_values", "slice_example", "validate"]
