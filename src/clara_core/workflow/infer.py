"""``clara infer``: segment new scans with a trained MMAR, no labels needed.

The inputs (image files, folders of them, whose nnU-Net-named ``<case>_XXXX`` files
are one case's channels, a folder of DICOM slices, or a datalist, whose items may
list one file per channel and whose relative paths are under its own folder or the
MMAR's ``DATA_ROOT``) go through the MMAR's validation
pre-transforms, with the loader chosen per input format, the sliding window and the
post-transforms (argmax by default; a model whose ``final_activation`` is ``sigmoid``
has each channel thresholded at 0.5 and keeps one channel per class, as BraTS's
TC/WT/ET), and each segmentation is written as ``<input name>_seg.nii.gz`` on the
input's own grid (a 2D picture's as a PNG), in the dataset's own label values: the
segmentation goes back through the label transforms of the chain
(``Transformer.label_values``: ``MapLabelValue`` writes a mask stored as 0/255 as
0/255; ``ConvertToMultiChannelBasedOnLabel`` with nnU-Net's ``regions_class_order``
paints region channels back into one label map).
An input whose output exists is skipped unless ``overwrite``, so an interrupted run
continues; ``num_parts``/``part_id`` split the inputs between independent processes;
an input that fails is listed and skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.components.base import Component
from clara_core.components.inferer import Inferer
from clara_core.components.run_state import RunInfo
from clara_core.components.transform import MultiFieldTransformer, Transformer
from clara_core.components.writer import Writer
from clara_core.config.builder import BuiltConfig
from clara_core.data.chain import run_transforms
from clara_core.errors import ClaraError
from clara_core.image.transform_ctx import TransformContext
from clara_core.mmar.model_shapes import CheckedPredict, in_precision
from clara_core.mmar.run_folder import RunFolder
from clara_core.mmar.trained_model import load_trained_model
from clara_core.workflow.case_loop import CaseLoop, CaseResults
from clara_core.workflow.evaluate import model_data_format
from clara_core.workflow.events import RunEvents, plugin_hooks
from clara_core.workflow.infer_inputs import IMAGE, InferInput, expand_inputs

#: the format of the segmentations: the registry's writer for it writes them
OUTPUT_SUFFIX = ".nii.gz"
LABEL = "label"


def image_only(transforms: Sequence[Transformer]) -> list[Transformer]:
    """The validation chain without the label: transforms of the label field alone
    are dropped, multi-field ones rebuilt with the image's fields only."""
    out: list[Transformer] = []
    for t in transforms:
        if not isinstance(t, MultiFieldTransformer) or LABEL not in t.fields:
            out.append(t)
            continue
        fields = [f for f in t.fields if f != LABEL]
        if not fields:
            continue
        config = t.get_config()
        if "fields" not in config:
            out.append(t)  # its label handling is not a field list: keep it as it is
            continue
        out.append(type(t)(**{**config, "fields": fields}))
    return out


@dataclass
class InferReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


class Inference:
    """Runs ``clara infer`` for a built train config (see the module docstring)."""

    def __init__(self, built: BuiltConfig, output: str, checkpoint: str = "best",
                 overwrite: bool = False, save_probabilities: bool = False,
                 inferer: Any = None, log: Callable[[str], None] = print,
                 amp: str | None = None) -> None:
        self.built, self.output, self.log = built, os.path.abspath(output), log
        self.amp = amp  # half precision: "float16" or "bfloat16" (clara infer --amp)
        self.events = RunEvents(RunInfo(command="infer", mmar=built.loaded.mmar_root,
                                        config_file=built.loaded.config_path,
                                        run_folder=self.output, log=log),
                                plugin_hooks(built.registry))
        self.overwrite, self.save_probabilities = overwrite, save_probabilities
        self.folder = RunFolder.of_mmar(built.loaded.mmar_root, built.loaded.env)
        self.checkpoint = checkpoint
        self._model: Any = None  # the trained model, loaded on first use
        refuse_classifier(built)
        #: a sigmoid model (multi-label, e.g. BraTS TC/WT/ET): each channel thresholded
        self.sigmoid = sigmoid_outputs(built.get("train", "model"))
        validate = built.sections.get("validate", {})
        #: the label transforms whose renumbering a segmentation is passed back through
        self.label_chain = [t for t in validate.get("pre_transforms", [])
                            if isinstance(t, MultiFieldTransformer) and LABEL in t.fields]
        self.seg_dtype = segmentation_dtype(self.label_chain)
        chain = image_only(validate.get("pre_transforms", []))
        self.chain = [t for t in chain if not t.is_loader]
        self.mmar_loaders = [t for t in chain if t.is_loader]
        configured = inferer or validate.get("inferer")
        if configured is None:
            raise ClaraError(f"{built.loaded.config_path} has no validate.inferer; give the "
                             "window size with --roi-size.")
        self.inferer: Inferer = configured
        self.registry = _registry()
        self._loaders: dict[type, Transformer] = {}
        self._writers: dict[str, list[Writer]] = {}  # by the segmentation's format

    def _loader_like(self, cls: type[Transformer]) -> Transformer:
        """A loader of class ``cls`` for the image: the MMAR's own when it has one of
        that class (its arguments, e.g. ``as_canonical``, kept), else ``cls`` built
        for the image with the MMAR loader's ``dtype``."""
        same = next((t for t in self.mmar_loaders if type(t) is cls), None)
        if same is not None:
            return same
        dtype = next((t.get_config().get("dtype") for t in self.mmar_loaders
                      if "dtype" in t.get_config()), None)
        return cls.for_field(IMAGE, dtype)

    def load_model(self) -> Any:
        if self._model is None:
            model = load_trained_model(self.folder, self.checkpoint, choose="--checkpoint")
            self._model = in_precision(model, self.amp) if self.amp else model
        return self._model

    def takes_channels(self, count: int) -> bool:
        """Whether the trained model takes images of ``count`` channels."""
        return model_channels(self.load_model(), count) == count

    def writers_for(self, item: InferInput) -> list[Writer]:
        """The segmentation's writer in the format the input's loader asks for (a PNG
        for a 2D picture, else NIfTI; NIfTI for a sigmoid model's channels), then with
        ``save_probabilities`` the probabilities' (NIfTI, float32)."""
        suffix = OUTPUT_SUFFIX if self.sigmoid else self._loader(item).result_suffix
        if suffix not in self._writers:
            writers = [self.registry.writer_for(suffix).for_field(
                "model", self.output, self.seg_dtype, "_seg")]
            if self.save_probabilities:
                writers.append(self.registry.writer_for(OUTPUT_SUFFIX).for_field(
                    "probabilities", self.output, "float32", "_prob"))
            self._writers[suffix] = writers
        return self._writers[suffix]

    def output_of(self, item: InferInput) -> str:
        name = self.writers_for(item)[0].file_name_for(item.name) or \
            f"{item.name}_seg{OUTPUT_SUFFIX}"
        return os.path.join(self.output, name)

    def _loader(self, item: InferInput) -> Transformer:
        """The loader the registry has for the input's format (a folder: DICOM)."""
        cls = self.registry.loader_for(item.path, folder=item.dicom)
        if cls not in self._loaders:
            self._loaders[cls] = self._loader_like(cls)
        return self._loaders[cls]

    def _case(self, item: InferInput, model: Any) -> TransformContext:
        """The input loaded and through the chain, checked against the model; a single
        file of fewer channels than the model takes is told to pass its channel files."""
        case = run_transforms([self._loader(item)], TransformContext({IMAGE: item.image}))
        loaded = case.get_image(IMAGE)
        axis = loaded.get_shape_format().get_channel_axis()
        channels = 1 if axis is None else int(loaded.get_data().shape[axis])
        try:
            case = run_transforms(self.chain, case)
            fits(model, case.get_image(IMAGE).get_data(), item.path)
        except ClaraError as exc:
            wanted = model_channels(model, channels)
            if item.files or wanted is None or channels >= wanted:
                raise
            raise ClaraError(
                f"{exc}\n{item.path} holds {channels} channel(s) and the model takes "
                f"{wanted}: for cases stored one file per channel, give with -i their "
                "folder (named as nnU-Net's <case>_0000, <case>_0001, ...) or a datalist "
                "whose items list each case's files in channel order (\"image\": "
                '["t1.nii.gz", "t2.nii.gz"]).') from exc
        image = case.get_image(IMAGE)
        image.set_property("filename", os.path.join(os.path.dirname(item.path),
                                                    f"{item.name}{OUTPUT_SUFFIX}"))
        return case

    def run(self, items: Sequence[InferInput], progress: Any = None) -> InferReport:
        """Segment ``items`` (``progress()`` after each); the run's events go to the
        installed plugins' hooks."""
        os.makedirs(self.output, exist_ok=True)
        self.events.call("clara_infer_started", inputs=[item.path for item in items])
        report = self._segment_all(items, progress)
        self.events.call("clara_infer_ended", result={
            "written": len(report.written), "skipped": len(report.skipped),
            "failed": len(report.failed)})
        if self.events.failure:
            raise ClaraError(self.events.failure + ".")
        return report

    def _done(self, item: InferInput, output: str | None, error: str | None = None) -> None:
        self.events.call("clara_case_inferred", case=item.path, output=output, error=error)

    def _segment_all(self, items: Sequence[InferInput], progress: Any) -> InferReport:
        report = InferReport()
        todo = []
        for item in items:
            if not self.overwrite and os.path.exists(self.output_of(item)):
                report.skipped.append(item.path)
                self._done(item, None)
            else:
                todo.append(item)
        if not todo:
            return report
        model = self.load_model()
        predict = CheckedPredict(model, "the window", "Choose another with --roi-size.")
        roi = self.inferer.get_roi_size()
        if roi:  # a window the network cannot take: one message, before any input
            predict.check(roi)
        loop = CaseLoop(predict, self.inferer,
                        data_format=lambda channels: model_data_format(model, channels),
                        post_transforms=[], writers=[])
        for item in todo:
            if self.events.failure:  # a plugin's hook failed: stop here
                break
            try:
                case = self._case(item, model)
                case = loop.process(case, CaseResults())
                self._segment(case)
                for writer in self.writers_for(item):
                    report.written += writer.write(case)
                self._done(item, self.output_of(item))
            except (ClaraError, ValueError, RuntimeError, OSError) as exc:
                report.failed.append((item.path, f"{type(exc).__name__}: {exc}"))
                self._done(item, None, report.failed[-1][1])
            if progress is not None:
                progress()
        return report

    def _segment(self, case: TransformContext) -> None:
        """Class probabilities -> integer labels (argmax; 0.5 for one channel), in the
        dataset's label values. A sigmoid model's channels are independent: each is
        thresholded at 0.5 and the segmentation keeps one channel per class, unless the
        chain paints region channels back into one label map (``regions_class_order``)."""
        scores = case.get_image("model")
        data = scores.get_data()
        if self.save_probabilities:
            case.set_image("probabilities", scores)
        labels = data > 0.5 if self.sigmoid or data.shape[0] == 1 else data.argmax(axis=0)[None]
        labels = labels.astype(np.uint8)
        back = label_values(self.label_chain, labels)
        if not self.sigmoid or back.shape != labels.shape:  # region channels painted back
            labels = back
        case.set_image("model", scores.new_image(labels.astype(self.seg_dtype),
                                                 scores.get_shape_format()))


def label_values(label_chain: Sequence[Transformer], classes: np.ndarray) -> np.ndarray:
    """``classes`` back through the label transforms of the chain, last first."""
    for t in reversed(label_chain):
        classes = t.label_values(classes)
    return classes


def segmentation_dtype(label_chain: Sequence[Transformer]) -> str:
    """The integer type that holds every label value the chain maps class numbers
    0-255 back to: ``uint8`` for class numbers themselves and 0/255 masks.

    >>> segmentation_dtype([])
    'uint8'
    """
    values = label_values(label_chain, np.arange(256, dtype=np.uint8))
    for dtype in ("uint8", "uint16", "int32"):
        info = np.iinfo(dtype)
        if np.all(values == np.rint(values)) and info.min <= values.min() \
                and values.max() <= info.max:
            return dtype
    return "float32"


def refuse_classifier(built: BuiltConfig) -> None:
    """``clara infer`` segments: a classification MMAR is told where its predictions
    come from instead."""
    from clara_core.data.classification import ClassificationImagePipeline

    if isinstance(built.get("train", "image_pipeline"), ClassificationImagePipeline):
        root = built.loaded.mmar_root
        raise ClaraError(
            f"{root} classifies images (its train pipeline is a ClassificationImagePipeline); "
            "clara infer writes segmentations. Write its class probabilities with the "
            f"SDK's infer form: clara validate -m {root} --set output_infer_result=true "
            "do_validation=false (a WriteClassificationResult writer in "
            "config_validation.json writes them as CSV).")


def sigmoid_outputs(model: Any) -> bool:
    """Whether the config's model ends in a sigmoid (its ``final_activation``)."""
    return isinstance(model, Component) and model.init_arg("final_activation") == "sigmoid"


def model_channels(model: Any, channels: int) -> int | None:
    """The channels the Keras model takes (None: any), its data format judged as
    :func:`model_data_format` does for an image of ``channels``."""
    shape = tuple(model.inputs[0].shape)[1:]
    first = model_data_format(model, channels) == "channels_first"
    want = shape[0] if first else shape[-1]
    return None if want is None else int(want)


def fits(model: Any, data: np.ndarray, name: str) -> None:
    """Refuse an image (channels first) the Keras model cannot take, saying why."""
    shape = tuple(model.inputs[0].shape)[1:]
    if len(shape) != data.ndim:
        raise ClaraError(f"{name}: after the pre-transforms the image has {data.ndim - 1} "
                         f"spatial axes; the model takes {len(shape) - 1}.")
    want = model_channels(model, data.shape[0])
    if want is not None and want != data.shape[0]:
        raise ClaraError(f"{name}: the image has {data.shape[0]} channel(s); the model "
                         f"takes {want}.")


def _registry() -> Any:
    from clara_core.registry.registry import Registry

    return Registry()


__all__ = ["InferInput", "InferReport", "Inference", "expand_inputs", "image_only"]
