"""Where components and settings live in a train or validation config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A config key that holds one component or a list of them."""

    kind: str
    is_list: bool


@dataclass(frozen=True)
class Setting:
    """A plain (non-component) config key and its expected JSON type."""

    types: tuple[type, ...]
    expected: str
    minimum: float | None = None


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
    "metrics": Section("metric", True),
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

_INT, _NUM, _BOOL = (int,), (int, float), (bool,)

TRAIN_SETTINGS: dict[str, Setting] = {
    "epochs": Setting(_INT, "an integer >= 1", 1),
    "num_training_epoch_per_valid": Setting(_INT, "an integer >= 1", 1),
    "learning_rate": Setting(_NUM, "a number > 0", 0),
    "multi_gpu": Setting(_BOOL, "true or false"),
    "dynamic_input_shape": Setting(_BOOL, "true or false"),
    "use_amp": Setting(_BOOL, "true or false"),
    "amp_dtype": Setting((str,), '"float16" or "bfloat16" (default: float16 on GPU, else '
                         "bfloat16)"),
    "names_only": Setting(_BOOL, "true or false"),
    "cpu_channels_last": Setting(_BOOL, "true or false (default true: on a machine without "
                                 "a GPU, build channels_first models channels_last)"),
    "determinism": Setting((dict,), 'an object such as {"random_seed": 123}'),
}

EVAL_SETTINGS: dict[str, Setting] = {
    "use_scanning_window": Setting(_BOOL, "true or false"),
    "multi_gpu": Setting(_BOOL, "true or false"),
    "use_amp": Setting(_BOOL, "true or false"),
    "dynamic_input_shape": Setting(_BOOL, "true or false"),
    "batch_size": Setting(_INT, "an integer >= 1", 1),
    "names_only": Setting(_BOOL, "true or false"),
    "output_infer_result": Setting(_BOOL, "true or false"),
    "do_validation": Setting(_BOOL, "true or false"),
}

ENTRY_KEYS = ("name", "path", "args", "disabled", "ref")

OUT_OF_SCOPE = {
    "search": "AutoML 'search' sections are not supported by clara (out of scope); "
    "remove the section to train with the config's fixed values",
    "federated": "federated-learning configs are not supported by clara (out of scope)",
}
