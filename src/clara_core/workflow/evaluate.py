"""``clara validate``: a validation config run over a datalist.

A validation config (the SDK's ``config_validation.json``) keeps its components at
the top: ``model_loader``, ``pre_transforms`` (the image), ``inferer``,
``post_transforms`` (the prediction, field ``model``), ``label_transforms`` (the
label), ``val_metrics`` and ``writers``. Cases come from ``DATASET_JSON`` under
``data_list_key`` (``validation``), files relative to ``DATA_ROOT``, as in training.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.run_state import RunInfo
from clara_core.config.builder import BuiltConfig
from clara_core.config.settings import EvalSettings
from clara_core.data.segmentation import SegmentationImagePipeline
from clara_core.errors import ClaraError
from clara_core.mmar.model_shapes import CheckedPredict
from clara_core.workflow.case_loop import CaseLoop
from clara_core.workflow.events import RunEvents, plugin_hooks


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

    def __init__(self, built: BuiltConfig, data_list_key: str | None = None,
                 log: Callable[[str], None] = print) -> None:
        assert isinstance(built.settings, EvalSettings), "a validation config"
        self.built, self.log = built, log
        self.settings: EvalSettings = built.settings
        run = RunInfo(command="validate", mmar=built.loaded.mmar_root,
                      config_file=built.loaded.config_path,
                      run_folder=str(built.loaded.env.get("MMAR_EVAL_OUTPUT_PATH") or ""),
                      tracking=tuple(self.settings.tracking), log=log)
        self.events = RunEvents(run, plugin_hooks(built.registry))
        self.key = data_list_key or self.settings.DATA_LIST_KEY
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

    def _report_dir(self, metric: Any) -> str | None:
        path = metric.get_report_path()
        return self.built.loaded.path_in_mmar(str(path)) if path else None

    def run(self) -> EvalResult:
        start = time.perf_counter()
        for notice in self.built.notices:
            self.log(notice)
        ctx = BuildContext()
        ctx[BuildContext.KEY_MMAR_ROOT] = self.built.loaded.mmar_root
        model = self._required("model_loader").load(ctx)
        # output paths (write_path, report_path) were resolved against the MMAR by the
        # config builder, from each component's output_args
        writers = self.sections.get("writers", []) if self.settings.output_infer_result else []
        pipeline = self._pipeline()
        loop = CaseLoop(
            predict=CheckedPredict(model, "the inferer's window", "Set the inferer's "
                                   f"roi_size in {self.built.loaded.config_path}."),
            inferer=self._required("inferer"),
            data_format=self.settings.data_format or (
                lambda channels: model_data_format(model, channels)),
            image_field=pipeline.image_field, label_field=pipeline.label_field,
            post_transforms=self.sections.get("post_transforms", []),
            # without validation (the SDK's infer.sh) labels are neither loaded nor needed
            label_transforms=self.sections.get("label_transforms", [])
            if self.settings.do_validation else [],
            metrics=self.sections.get("val_metrics", []) if self.settings.do_validation else [],
            writers=writers, report_dir=self._report_dir, on_case=self._case_done)
        self.events.call("clara_validate_started", config=dict(self.built.loaded.config))
        self._stop_on_failure()
        done = loop.run(pipeline.cases())
        if not done.cases:
            raise ClaraError(f"no {self.key} cases in {self.env.get('DATASET_JSON')}.")
        self.events.call("clara_validate_ended", metrics=dict(done.metrics))
        self._stop_on_failure()
        return EvalResult(done.metrics, done.cases, done.written,
                          time.perf_counter() - start)

    def _case_done(self, case: str, metrics: dict[str, float]) -> None:
        self.events.call("clara_case_validated", case=case, metrics=metrics)
        self._stop_on_failure()

    def _stop_on_failure(self) -> None:
        """A plugin's hook that raised ends the validation with its message."""
        if self.events.failure:
            raise ClaraError(self.events.failure + ".")


__all__ = ["EvalResult", "Evaluator", "model_data_format"]
