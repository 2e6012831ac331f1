"""``clara infer``: segment new scans with a trained MMAR, no labels needed.

The inputs (image files, folders of them, a folder of DICOM slices, or a datalist)
go through the MMAR's validation pre-transforms, with the loader chosen per input
format, the sliding window and the post-transforms (argmax by default), and each
segmentation is written as ``<input name>_seg.nii.gz`` on the input's own grid.
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

from clara_core.components.inferer import Inferer
from clara_core.components.model import main_output
from clara_core.components.run_state import RunInfo
from clara_core.components.transform import MultiFieldTransformer, Transformer
from clara_core.components.writer import Writer
from clara_core.config.builder import BuiltConfig
from clara_core.config.datalist import load_datalist
from clara_core.data.chain import run_transforms
from clara_core.errors import ClaraError
from clara_core.image.transform_ctx import TransformContext
from clara_core.mmar.run_folder import RunFolder
from clara_core.mmar.trained_model import load_trained_model
from clara_core.workflow.case_loop import CaseLoop, CaseResults
from clara_core.workflow.evaluate import model_data_format
from clara_core.workflow.events import RunEvents, plugin_hooks

IMAGE_EXTENSIONS = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr")
#: the format of the segmentations: the registry's writer for it writes them
OUTPUT_SUFFIX = ".nii.gz"
IMAGE, LABEL = "image", "label"


@dataclass(frozen=True)
class InferInput:
    """One scan to segment: a file, or a folder holding one DICOM series."""

    path: str
    name: str
    dicom: bool = False


def stem(path: str) -> str:
    """The file or folder name without its image extension.

    >>> stem("/scans/case_07.nii.gz"), stem("/scans/ct.mha"), stem("/dicom/series1/")
    ('case_07', 'ct', 'series1')
    """
    name = os.path.basename(os.path.normpath(path))
    for ext in IMAGE_EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _is_dicom_file(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(132)[128:] == b"DICM"
    except OSError:
        return False


def expand_inputs(inputs: Sequence[str], key: str | None = None) -> list[InferInput]:
    """The scans that ``inputs`` name (see the module docstring), in a stable order."""
    found: list[InferInput] = []
    for raw in inputs:
        path = os.path.abspath(raw)
        if os.path.isdir(path):
            files = sorted(os.path.join(path, f) for f in os.listdir(path))
            images = [f for f in files if f.endswith(IMAGE_EXTENSIONS) and os.path.isfile(f)]
            if images:
                found += [InferInput(f, stem(f)) for f in images]
            elif any(_is_dicom_file(f) or f.lower().endswith(".dcm") for f in files):
                found.append(InferInput(path, stem(path), dicom=True))
            else:
                raise ClaraError(f"{raw}: a folder without images ({', '.join(IMAGE_EXTENSIONS)}"
                                 ") or DICOM slices; give image files, such a folder, or a "
                                 "datalist .json.")
        elif path.endswith(".json"):
            found += _datalist_inputs(path, key)
        elif os.path.exists(path):
            found.append(InferInput(path, stem(path)))
        else:
            raise ClaraError(f"{raw} does not exist; give image files, folders of them, a "
                             "folder of DICOM slices or a datalist .json.")
    return found


def _datalist_inputs(path: str, key: str | None) -> list[InferInput]:
    import json

    with open(path, encoding="utf-8") as f:
        keys = json.load(f)
    chosen = key or ("testing" if "testing" in keys else "validation")
    items = load_datalist(path, os.path.dirname(path), chosen)
    out = []
    for item in items:
        image = item.get(IMAGE) if isinstance(item, dict) else item
        if not isinstance(image, str):
            raise ClaraError(f"{path}: an item of {chosen!r} has no image path: {item!r}.")
        out.append(InferInput(image, stem(image), dicom=os.path.isdir(image)))
    return out


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
                 inferer: Any = None, log: Callable[[str], None] = print) -> None:
        self.built, self.output, self.log = built, os.path.abspath(output), log
        self.events = RunEvents(RunInfo(command="infer", mmar=built.loaded.mmar_root,
                                        config_file=built.loaded.config_path,
                                        run_folder=self.output, log=log),
                                plugin_hooks(built.registry))
        self.overwrite, self.save_probabilities = overwrite, save_probabilities
        self.folder = RunFolder.of_mmar(built.loaded.mmar_root, built.loaded.env)
        self.checkpoint = checkpoint
        validate = built.sections.get("validate", {})
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
        writer = self.registry.writer_for(OUTPUT_SUFFIX)
        self.writers: list[Writer] = [writer.for_field("model", self.output, "uint8", "_seg")]
        if save_probabilities:
            self.writers.append(writer.for_field("probabilities", self.output, "float32",
                                                 "_prob"))

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
        return load_trained_model(self.folder, self.checkpoint, choose="--checkpoint")

    def output_of(self, item: InferInput) -> str:
        name = self.writers[0].file_name_for(item.name) or f"{item.name}_seg{OUTPUT_SUFFIX}"
        return os.path.join(self.output, name)

    def _loader(self, item: InferInput) -> Transformer:
        """The loader the registry has for the input's format (a folder: DICOM)."""
        cls = self.registry.loader_for(item.path, folder=item.dicom)
        if cls not in self._loaders:
            self._loaders[cls] = self._loader_like(cls)
        return self._loaders[cls]

    def _case(self, item: InferInput) -> TransformContext:
        case = run_transforms([self._loader(item), *self.chain],
                              TransformContext({IMAGE: item.path}))
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
        loop = CaseLoop(lambda x: main_output(model(x, training=False)), self.inferer,
                        data_format=lambda channels: model_data_format(model, channels),
                        post_transforms=[], writers=[])
        for item in todo:
            if self.events.failure:  # a plugin's hook failed: stop here
                break
            try:
                case = self._case(item)
                fits(model, case.get_image(IMAGE).get_data(), item.path)
                case = loop.process(case, CaseResults())
                self._segment(case)
                for writer in self.writers:
                    report.written += writer.write(case)
                self._done(item, self.output_of(item))
            except (ClaraError, ValueError, RuntimeError, OSError) as exc:
                report.failed.append((item.path, f"{type(exc).__name__}: {exc}"))
                self._done(item, None, report.failed[-1][1])
            if progress is not None:
                progress()
        return report

    def _segment(self, case: TransformContext) -> None:
        """Class probabilities -> integer labels (argmax; 0.5 for one channel)."""
        scores = case.get_image("model")
        data = scores.get_data()
        if self.save_probabilities:
            case.set_image("probabilities", scores)
        labels = data.argmax(axis=0)[None] if data.shape[0] > 1 else (data > 0.5)
        case.set_image("model", scores.new_image(labels.astype(np.uint8),
                                                 scores.get_shape_format()))


def fits(model: Any, data: np.ndarray, name: str) -> None:
    """Refuse an image (channels first) the Keras model cannot take, saying why."""
    shape = tuple(model.inputs[0].shape)[1:]
    if len(shape) != data.ndim:
        raise ClaraError(f"{name}: after the pre-transforms the image has {data.ndim - 1} "
                         f"spatial axes; the model takes {len(shape) - 1}.")
    first = model_data_format(model, data.shape[0]) == "channels_first"
    want = shape[0] if first else shape[-1]
    if want is not None and want != data.shape[0]:
        raise ClaraError(f"{name}: the image has {data.shape[0]} channel(s); the model "
                         f"takes {want}.")


def _registry() -> Any:
    from clara_core.registry.registry import Registry

    return Registry()


__all__ = ["InferInput", "InferReport", "Inference", "expand_inputs", "image_only", "stem"]
