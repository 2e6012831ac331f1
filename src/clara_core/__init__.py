"""Clara BYOC: bring-your-own-components medical-imaging training on TensorFlow 2.

This module is the public API. Names are imported on first use, so
``import clara_core`` imports neither NumPy nor TensorFlow.

>>> import clara_core, sys
>>> "tensorflow" in sys.modules and False
False
>>> clara_core.ShapeFormat("CDHW").get_number_of_dims()
4
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Component": "clara_core.components.base",
    "GraphComponent": "clara_core.components.graph_component",
    "BuildContext": "clara_core.components.build_ctx",
    "Model": "clara_core.components.model",
    "Loss": "clara_core.components.loss",
    "Optimizer": "clara_core.components.optimizer",
    "Transformer": "clara_core.components.transform",
    "MultiFieldTransformer": "clara_core.components.transform",
    "RandomTransform": "clara_core.components.transform",
    "Metric": "clara_core.components.metric",
    "MetricList": "clara_core.components.metric",
    "DataPipeline": "clara_core.components.pipeline",
    "DataProperty": "clara_core.components.pipeline",
    "Inferer": "clara_core.components.inferer",
    "Handler": "clara_core.components.handler",
    "RunInfo": "clara_core.components.run_state",
    "RunState": "clara_core.components.run_state",
    "StopSignal": "clara_core.components.run_state",
    "main_output": "clara_core.components.model",
    "LearningRatePolicy": "clara_core.components.lr_policy",
    "AuxOp": "clara_core.components.aux_op",
    "ModelLoader": "clara_core.components.model_loader",
    "Writer": "clara_core.components.writer",
    "MedicalImage": "clara_core.image.medical_image",
    "ShapeFormat": "clara_core.image.shape_format",
    "ImageProperty": "clara_core.image.properties",
    "TransformContext": "clara_core.image.transform_ctx",
    "Registry": "clara_core.registry.registry",
    "ClaraError": "clara_core.errors",
    "ConfigError": "clara_core.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:
    from clara_core.components.aux_op import AuxOp
    from clara_core.components.base import Component
    from clara_core.components.build_ctx import BuildContext
    from clara_core.components.graph_component import GraphComponent
    from clara_core.components.handler import Handler
    from clara_core.components.inferer import Inferer
    from clara_core.components.loss import Loss
    from clara_core.components.lr_policy import LearningRatePolicy
    from clara_core.components.metric import Metric, MetricList
    from clara_core.components.model import Model, main_output
    from clara_core.components.model_loader import ModelLoader
    from clara_core.components.optimizer import Optimizer
    from clara_core.components.pipeline import DataPipeline, DataProperty
    from clara_core.components.run_state import RunInfo, RunState, StopSignal
    from clara_core.components.transform import (
        MultiFieldTransformer,
        RandomTransform,
        Transformer,
    )
    from clara_core.components.writer import Writer
    from clara_core.errors import ClaraError, ConfigError
    from clara_core.image.medical_image import MedicalImage
    from clara_core.image.properties import ImageProperty
    from clara_core.image.shape_format import ShapeFormat
    from clara_core.image.transform_ctx import TransformContext
    from clara_core.registry.registry import Registry


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'clara_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
