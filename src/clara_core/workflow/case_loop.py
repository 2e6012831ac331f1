"""The case loop: infer each whole case, then post-transforms, metrics and writers.

Validation during training and ``clara validate`` both run :class:`CaseLoop`; they
differ only in what they give it (training: the metrics and the aux-op values of
each case; a validation config: post- and label transforms, metrics and writers).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.components.inferer import Inferer
from clara_core.components.metric import Metric
from clara_core.components.transform import Transformer
from clara_core.components.writer import Writer
from clara_core.data.chain import run_transforms
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext
from clara_core.workflow.report import SliceExample

#: extra case fields from ``(prediction, label)``, both batched in the model's layout
CaseValues = Callable[[np.ndarray, np.ndarray], dict[str, float]]
#: the data format of the model, or a function of the image's channel count giving it
DataFormat = str | Callable[[int], str]

PREDICTION_FIELD = "model"  # the SDK's name of the prediction in a case


@dataclass
class CaseResults:
    """What a pass over the cases gave."""

    metrics: dict[str, float] = field(default_factory=dict)
    cases: int = 0
    written: list[str] = field(default_factory=list)
    example: SliceExample | None = None


@dataclass
class CaseLoop:
    """One pass of ``predict`` over whole cases (see the module docstring)."""

    predict: Callable[[Any], Any]
    inferer: Inferer
    data_format: DataFormat
    image_field: str = "image"
    label_field: str = "label"
    post_transforms: Sequence[Transformer] = ()
    label_transforms: Sequence[Transformer] = ()
    metrics: Sequence[Metric] = ()
    writers: Sequence[Writer] = ()
    case_values: CaseValues | None = None
    report_dir: Callable[[Metric], str | None] = lambda metric: None
    #: called after each case with its name and the metric values it added
    on_case: Callable[[str, dict[str, float]], None] | None = None

    def run(self, cases: Iterable[TransformContext]) -> CaseResults:
        """Infer, transform, measure and write every case; metric reports at the end."""
        for m in self.metrics:
            m.reset()
        result = CaseResults()
        for case in cases:
            self.process(case, result)
        return self.finish(result)

    def process(self, case: TransformContext, result: CaseResults) -> TransformContext:
        """One case: infer, post-transforms, label transforms, metrics, writers."""
        case = self._infer(case)
        case = run_transforms(self.post_transforms, case)
        if self.label_transforms and isinstance(case.get(self.label_field), str):
            case = run_transforms(self.label_transforms, case)  # the label's own loader
        image = case.get_image(self.image_field)
        name = os.path.basename(str(image.get_property("filename", "case")))
        values: dict[str, float] = {}
        for m in self.metrics:
            before = len(m.metric_list)
            m.update(case, name)
            if len(m.metric_list) > before:
                values[m.get_name()] = m.metric_list.last()
        if self.on_case is not None:
            self.on_case(name, values)
        for w in self.writers:
            result.written += w.write(case)
        if result.example is None:
            result.example = slice_example(case, self.image_field, self.label_field, name)
        result.cases += 1
        return case

    def finish(self, result: CaseResults) -> CaseResults:
        """The metrics' values and reports, and the writers' summaries, after the last
        case."""
        for m in self.metrics:
            result.metrics[m.get_name()] = m.get()
            result.metrics.update({f"{m.get_name()}_{m.class_name(c)}": v
                                   for c, v in m.get_class_values().items()})
            m.write_report(self.report_dir(m))
        for w in self.writers:
            result.written += w.finalize()
        return result

    def _infer(self, case: TransformContext) -> TransformContext:
        """Put the prediction in the case's ``model`` field (channels first, like the
        image), and the values of :attr:`case_values` under their names."""
        image = case.get_image(self.image_field)
        x = image.get_data()[None].astype(np.float32)
        fmt = self.data_format if isinstance(self.data_format, str) else \
            self.data_format(x.shape[1])
        last = fmt == "channels_last"
        batched = np.asarray(self.inferer.infer(self.predict,
                                                np.moveaxis(x, 1, -1) if last else x, fmt))
        label = case.get(self.label_field)
        if self.case_values is not None and label is not None and not isinstance(label, str):
            y = np.asarray(label.get_data() if isinstance(label, MedicalImage) else label,
                           np.float32)[None]
            if last and y.ndim == batched.ndim:
                y = np.moveaxis(y, 1, -1)
            for key, value in self.case_values(batched, y).items():
                case[key] = value
        pred = batched[0]
        if pred.ndim == x.ndim - 1:  # a segmentation, not class scores
            pred = np.moveaxis(pred, -1, 0) if last else pred
            case.set_image(PREDICTION_FIELD, image.new_image(pred, image.get_shape_format()))
        else:
            case[PREDICTION_FIELD] = pred
        return case


def slice_example(case: TransformContext, image_field: str, label_field: str,
                  name: str) -> SliceExample | None:
    """The case's image, reference and predicted labels, for the end-of-run picture
    (None for class scores)."""
    prediction = case.get(PREDICTION_FIELD)
    if not isinstance(prediction, MedicalImage):
        return None
    pred = prediction.get_data()
    labels = pred.argmax(axis=0) if pred.shape[0] > 1 else (pred[0] > 0.5)
    label = case.get(label_field)
    reference = label.get_data()[0] if isinstance(label, MedicalImage) else None
    return SliceExample(name, case.get_image(image_field).get_data(), reference,
                        labels.astype(np.uint8))


def aux_op_values(loss: Any, aux_ops: Sequence[Any], build_ctx: Any) -> CaseValues:
    """``case_values``: the loss and each aux op on one whole validation case, by tag
    (the SDK's ``ComputeAverage`` metrics read them: ``NegLoss`` -> ``"negloss"``)."""

    def values(prediction: np.ndarray, label: np.ndarray) -> dict[str, float]:
        import tensorflow as tf

        from clara_core.components.build_ctx import BuildContext

        ctx = BuildContext(build_ctx)
        pred, y = tf.constant(prediction), tf.constant(label)
        ctx[BuildContext.KEY_PREDICTIONS] = pred
        ctx[BuildContext.KEY_LABEL_INPUT] = y
        ctx[BuildContext.KEY_LOSS_VALUE] = tf.cast(loss.get_loss(pred, y, ctx), tf.float32)
        return {tag: float(value) for op in aux_ops for tag, value in op.values(ctx).items()}

    return values


__all__ = ["CaseLoop", "CaseResults", "aux_op_values", "slice_example"]
