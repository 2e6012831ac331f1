"""The component kinds, their entry-point groups and their base classes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One kind of component.

    >>> KINDS["loss"].group, KINDS["loss"].article
    ('clara.losses', 'a loss')
    """

    name: str
    group: str
    base: str  # "module:Class" of the contract, imported only when needed
    label: str

    @property
    def article(self) -> str:
        return ("an " if self.label[0] in "aeiou" else "a ") + self.label


_C = "clara_core.components."

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("model", "clara.models", _C + "model:Model", "model"),
        Kind("loss", "clara.losses", _C + "loss:Loss", "loss"),
        Kind("optimizer", "clara.optimizers", _C + "optimizer:Optimizer", "optimizer"),
        Kind("transform", "clara.transforms", _C + "transform:Transformer", "transform"),
        Kind("metric", "clara.metrics", _C + "metric:Metric", "metric"),
        Kind("lr_policy", "clara.lr_policies", _C + "lr_policy:LearningRatePolicy", "lr policy"),
        Kind("pipeline", "clara.pipelines", _C + "pipeline:DataPipeline", "data pipeline"),
        Kind("inferer", "clara.inferers", _C + "inferer:Inferer", "inferer"),
        Kind("handler", "clara.handlers", _C + "handler:Handler", "handler"),
        Kind("aux_op", "clara.aux_ops", _C + "aux_op:AuxOp", "aux op"),
        Kind("model_loader", "clara.model_loaders", _C + "model_loader:ModelLoader",
             "model loader"),
        Kind("writer", "clara.writers", _C + "writer:Writer", "writer"),
        # clara automl's config_automl.json (the SDK's Controller and AutoML Handler)
        Kind("automl_controller", "clara.automl_controllers", "clara_core.automl.sdk:Controller",
             "AutoML controller"),
        Kind("automl_handler", "clara.automl_handlers", "clara_core.automl.sdk:Handler",
             "AutoML handler"),
    )
}

GROUP_TO_KIND: dict[str, str] = {k.group: k.name for k in KINDS.values()}

PLUGIN_GROUP = "clara.plugins"
"""Entry-point group of pluggy plugins (modules implementing :mod:`clara_core.hookspecs`)."""
