"""Where components live in a train or validation config: the sections and their kinds.

The plain settings beside the sections are declared in :mod:`clara_core.config.settings`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A config key that holds one component or a list of them."""

    kind: str
    is_list: bool


_TRANSFORMS = Section("transform", True)

TRAIN_SECTIONS: dict[str, Section] = {
    "model": Section("model", False),
    "loss": Section("loss", False),
    "optimizer": Section("optimizer", False),
    "lr_policy": Section("lr_policy", False),
    "image_pipeline": Section("pipeline", False),
    "pre_transforms": _TRANSFORMS,
    "batch_transforms": _TRANSFORMS,
    "handlers": Section("handler", True),
    # the SDK's training metrics: values computed in the train step, like aux_ops
    "metrics": Section("aux_op", True),
    "aux_ops": Section("aux_op", True),
}

VALIDATE_SECTIONS: dict[str, Section] = {
    "metrics": Section("metric", True),
    "pre_transforms": _TRANSFORMS,
    "image_pipeline": Section("pipeline", False),
    "inferer": Section("inferer", False),
    "handlers": Section("handler", True),
}

# A validation config (``clara validate``) keeps its components at the top level.
EVAL_SECTIONS: dict[str, Section] = {
    "inferer": Section("inferer", False),
    "model_loader": Section("model_loader", False),
    "pre_transforms": _TRANSFORMS,
    "post_transforms": _TRANSFORMS,
    "label_transforms": _TRANSFORMS,
    "val_metrics": Section("metric", True),
    "writers": Section("writer", True),
}

ENTRY_KEYS = ("name", "path", "args", "disabled", "ref")

#: the SDK's configs for tools clara does not run, by a top-level key only they have
#: (when there is no "train" section), with the one line that refuses them
FOREIGN_CONFIGS = {
    "servers": "a federated-learning server or client config: clara does not run federated "
               "learning; train each site's config_train.json with clara train",
    "controller": "an AutoML controller config: clara automl reads it (clara automl -m MMAR "
                  "--set trainconf=...); clara config check checks the train config it searches",
}

OUT_OF_SCOPE = {
    "federated": "federated-learning configs are not supported by clara (out of scope)",
}
