"""``clara validate``: a validation config run over a datalist.

A validation config (the SDK's ``config_validation.json``) keeps its components at
the top: ``model_loader``, ``pre_transforms`` (the image), ``inferer``,
``post_transforms`` (the prediction, field ``model``), ``label_transforms`` (the
label), ``val_metrics`` and ``writers``. Cases come from ``DATASET_JSON`` under
``data_list_key`` (``validation``), files relative to ``DATA_ROOT``, as in training.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clara_core.builtins.model_loaders import KEY_MMAR_ROOT
from clara_core.components.build_ctx import BuildContext
from clara_core.config.builder import BuiltConfig
from clara_core.data.chain import run_transforms
from clara_core.data.segmentation import SegmentationImagePipeline
from clara_core.errors import ClaraError
from clara_core.workflow.step import main_output


@dataclass
class EvalResult:
    metrics: dict[str, float] = field(default_factory=dict)
    cases: int = 0
    written: list[str] = field(default_factory=list)
    seconds: float = 0.0


def model_data_format(model: Any, channels: int) -> str:
    """``channels_first`` or ``channels_last``, from the loaded model's input shape."""
    shape = getattr(model, "inputs", None)
    if not shape:
        return "channels_first"  # a served SavedModel: the SDK's (and export's) default
    dims = tuple(shape[0].shape)[1:]
    if dims[0] is not None and (dims[-1] is None or dims[0] == channels):
        return "channels_first"
    return "channels_last"


class Evaluator:
    """Runs one built validation config."""

    def __init__(self, built: BuiltConfig, data_list_key: str = "validation",
                 log: Callable[[str], None] = print) -> None:
        self.built, self.log, self.key = built, log, data_list_key
        self.env = built.loaded.env
        self.sections = built.sections.get("", {})

    def _required(self, key: str) -> Any:
        value = self.sections.get(key)
        if value is None:
            raise ClaraError(f"{self.built.loaded.config_path}: a validation config needs a "
                             f'"{key}" section.')
        return value

    def _pipeline(self) -> SegmentationImagePipeline:
        dataset = self.env.get("DATASET_JSON")
        if not dataset:
            raise ClaraError("clara validate reads its cases from DATASET_JSON: set it in the "
                             "environment file or with --set DATASET_JSON=FILE.")
        pipeline = SegmentationImagePipeline(str(dataset), self.env.get("DATA_ROOT"),
                                             data_list_key=self.key, shuffle=False,
                                             cache=False)
        pipeline.set_root(self.built.loaded.mmar_root)
        pipeline.set_transforms(self.sections.get("pre_transforms", []))
        return pipeline

    def run(self) -> EvalResult:
        import time

        start = time.perf_counter()
        ctx = BuildContext()
        ctx[KEY_MMAR_ROOT] = self.built.loaded.mmar_root
        model = self._required("model_loader").load(ctx)
        inferer = self._required("inferer")
        metrics = self.sections.get("val_metrics", [])
        writers = self.sections.get("writers", [])
        post, label_chain = (self.sections.get(k, []) for k in ("post_transforms",
                                                                "label_transforms"))
        for m in metrics:
            m.reset()
        for w in writers:  # relative write paths are in the MMAR, like metric reports
            if isinstance(getattr(w, "write_path", None), str):
                w.write_path = self.built.loaded.path_in_mmar(w.write_path)

        def predict(x: Any) -> Any:
            return main_output(model(x, training=False))

        result = EvalResult()
        data_format = None
        for case in self._pipeline().cases():
            image = case.get_image("image")
            data = image.get_data()[None].astype(np.float32)
            data_format = data_format or self.built.loaded.config.get("data_format") or \
                model_data_format(model, data.shape[1])
            x = data if data_format == "channels_first" else np.moveaxis(data, 1, -1)
            pred = np.asarray(inferer.infer(predict, x, data_format))[0]
            if data_format == "channels_last":
                pred = np.moveaxis(pred, -1, 0)
            case.set_image("model", image.new_image(pred, image.get_shape_format()))
            case = run_transforms(post, case)
            if label_chain and isinstance(case.get("label"), str):
                case = run_transforms(label_chain, case)
            name = os.path.basename(str(image.get_property("filename", "case")))
            for m in metrics:
                m.update(case, name)
            for w in writers:
                result.written += w.write(case)
            result.cases += 1
        if not result.cases:
            raise ClaraError(f"no {self.key} cases in {self.env.get('DATASET_JSON')}.")
        for m in metrics:
            result.metrics[m.get_name()] = m.get()
            path = getattr(getattr(m, "metric_list", None), "report_path", None)
            m.write_report(self.built.loaded.path_in_mmar(str(path)) if path else None)
        result.seconds = time.perf_counter() - start
        return result


__all__ = ["EvalResult", "Evaluator", "model_data_format"]
