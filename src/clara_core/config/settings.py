"""The top-level settings of train and validation configs, each declared once.

A setting is a field of a frozen dataclass: its annotation is the JSON type, its
default the default, and its metadata the value rule and a one-line meaning.
:func:`parse_settings` checks a config's top level against such a class and
returns the typed instance; ``clara config check``, ``clara train`` and
``clara validate`` all go through it, so the check accepts exactly what a run
accepts, and the trainer and evaluator never read a raw config value.

>>> problems = []
>>> s = parse_settings(TrainSettings, {"epochs": 5, "amp_dtype": "float64"}, (), problems)
>>> s.epochs, s.learning_rate
(5, 0.0001)
>>> print(problems[0])
amp_dtype: expected one of 'float16', 'bfloat16' or null, received 'float64'
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from clara_core.config.jsonio import format_location
from clara_core.config.jsontypes import describe, json_value_ok
from clara_core.errors import Problem
from clara_core.suggest import did_you_mean

S = TypeVar("S")

#: numpy's and Keras' seeds are unsigned 32-bit integers
MAX_SEED = 2**32 - 1
MAX_EPOCHS = 1_000_000


@dataclass(frozen=True)
class Rule:
    """A value rule beyond the JSON type: ``test(value)`` and how an allowed value reads."""

    test: Callable[[Any], bool]
    expected: str


def at_least(low: int, high: int | None = None) -> Rule:
    """Integers from ``low`` (to ``high``).

    >>> at_least(1).expected, at_least(0, 9).test(10)
    ('an integer >= 1', False)
    """
    if high is None:
        return Rule(lambda v: v >= low, f"an integer >= {low}")
    return Rule(lambda v: low <= v <= high, f"an integer in [{low}, {high}]")


POSITIVE = Rule(lambda v: math.isfinite(v) and v > 0, "a number > 0")


def setting(default: Any, meaning: str, rule: Rule | None = None, *,
            no_effect: str = "") -> Any:
    """A settings field. ``no_effect`` (why) marks a key accepted so that the SDK's
    configs load, which does nothing on TensorFlow 2: a notice names it."""
    return field(default=default, metadata={"meaning": meaning, "rule": rule,
                                            "no_effect": no_effect})


@dataclass(frozen=True)
class Determinism:
    """``"determinism": {"random_seed": N}``: reproducible runs."""

    random_seed: int = setting(0, "seed of the weights, the data order and every augmentation",
                               at_least(0, MAX_SEED))


@dataclass(frozen=True)
class TrainSettings:
    """The top level of a train config (besides its ``train`` and ``validate`` sections)."""

    epochs: int = setting(1, "epochs to train", at_least(1, MAX_EPOCHS))
    num_training_epoch_per_valid: int = setting(
        1, "validate every N epochs (and after the last one)", at_least(1, MAX_EPOCHS))
    learning_rate: float = setting(1e-4, "base learning rate (the lr_policy scales it)",
                                   POSITIVE)
    multi_gpu: bool = setting(False, "train on every visible GPU (MirroredStrategy)")
    dynamic_input_shape: bool = setting(
        True, "model input of any spatial size; false fixes it to the crop size only "
              "where the network needs a fixed size (a fully convolutional one stays free)")
    use_amp: bool = setting(False, "mixed precision (float16 with loss scaling on GPUs, "
                                   "bfloat16 elsewhere)")
    amp_dtype: Literal["float16", "bfloat16"] | None = setting(
        None, "the mixed-precision compute type (default: float16 on GPU, else bfloat16)")
    train_summary_recording_interval: int = setting(
        0, "also write the step loss (and aux ops) to TensorBoard every N steps; 0: "
        "once per epoch only", at_least(0, MAX_EPOCHS))
    use_tf32: bool = setting(True, "TensorFloat-32 matrix maths on Ampere and newer GPUs "
                                   "(TensorFlow's default); false keeps full float32")
    use_xla: bool = setting(False, "SDK switch for XLA compilation", no_effect=(
        "XLA auto-clustering is TensorFlow's own: TF_XLA_FLAGS=--tf_xla_auto_jit=2"))
    use_scanning_window: bool = setting(False, "SDK switch for scanning-window validation",
                                        no_effect="the validate section's inferer chooses")
    names_only: bool = setting(False, 'refuse "path" components (configs you do not trust)')
    cpu_channels_last: bool = setting(
        True, "on a machine without a GPU, build channels_first models channels_last")
    determinism: Determinism | None = setting(
        None, 'seeds and TensorFlow op determinism, e.g. {"random_seed": 123}')
    tracking: tuple[str, ...] = setting(
        (), 'experiment trackers that log the run, from installed plugins (["mlflow"]); '
        "clara train --tracking NAME adds one")

    @property
    def seed(self) -> int:
        return self.determinism.random_seed if self.determinism else 0


@dataclass(frozen=True)
class EvalSettings:
    """The top level of a validation config (``clara validate``)."""

    do_validation: bool = setting(True, "compute val_metrics (needs labels)")
    output_infer_result: bool = setting(True, "run the writers on each prediction")
    data_format: Literal["channels_first", "channels_last"] | None = setting(
        None, "the model's input layout (default: read off the loaded model)")
    DATA_LIST_KEY: str = setting("validation", "the datalist key of the cases (clara "
                                 "validate --key overrides it)")
    names_only: bool = setting(False, 'refuse "path" components (configs you do not trust)')
    tracking: tuple[str, ...] = setting(
        (), 'experiment trackers that log the run, from installed plugins (["mlflow"]); '
        "clara validate --tracking NAME adds one")
    use_scanning_window: bool = setting(
        True, "SDK switch for scanning-window inference",
        no_effect="the inferer section chooses the inferer")
    multi_gpu: bool = setting(False, "SDK switch for several GPUs",
                              no_effect="validation runs on one device")
    use_amp: bool = setting(False, "SDK switch for mixed precision",
                            no_effect="the model runs in the precision it was saved with")
    dynamic_input_shape: bool = setting(True, "SDK switch for the input shape",
                                        no_effect="a loaded model takes any input size")
    batch_size: int = setting(1, "SDK cases per inference batch", at_least(1, 4096),
                              no_effect="each case is inferred on its own")


def _dataclass_of(annotation: Any) -> type | None:
    """The settings dataclass inside ``X | None``, if any."""
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and dataclasses.is_dataclass(arg):
            return arg
    return None


def expected(cls: type, name: str) -> str:
    """How an allowed value of setting ``name`` of ``cls`` reads in a message."""
    f = next(f for f in fields(cls) if f.name == name)
    rule = f.metadata.get("rule")
    if rule is not None:
        return str(rule.expected)
    annotation = typing.get_type_hints(cls)[name]
    nested = _dataclass_of(annotation)
    if nested is not None:
        keys = ", ".join(f'"{g.name}"' for g in fields(nested))
        return f"an object with {keys}"
    return describe(annotation)


def parse_settings(cls: type[S], values: Mapping[str, Any], loc: tuple[str | int, ...],
                   problems: list[Problem], sections: Collection[str] = (),
                   ignored: list[str] | None = None) -> S:
    """The settings in ``values`` as a ``cls`` instance; each bad one is a problem (with
    its location under ``loc``) and keeps its default. Keys in ``sections`` are the
    config's component sections, not settings.

    With ``ignored``, an unknown key holding a plain value (text, number, true/false)
    and close to no known name goes there instead of being a problem: the SDK kept
    such keys as global variables (``"print_conf": true``), so its users' configs
    carry them. A near miss (``"epcohs"``) stays a problem."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key in sections:
            continue
        where = format_location((*loc, key))
        f = known.get(key)
        if f is None:
            names = [*known, *sections]
            near = did_you_mean(key, names)
            if ignored is not None and not near and (value is None or isinstance(
                    value, str | int | float | bool)):
                ignored.append(key)
                continue
            problems.append(Problem(where, f"unknown setting {key!r}",
                                    near or f"known settings: {', '.join(names)}"))
            continue
        nested = _dataclass_of(hints[key])
        if nested is not None and isinstance(value, dict):
            kwargs[key] = parse_settings(nested, value, (*loc, key), problems)
            continue
        rule = f.metadata["rule"]
        ok = (nested is None or value is None) and json_value_ok(value, hints[key])
        if ok and rule is not None and value is not None:
            ok = rule.test(value)
        if ok:
            kwargs[key] = value
        else:
            problems.append(Problem(where, f"expected {expected(cls, key)}, received {value!r}"))
    return cls(**kwargs)


#: how the one notice line naming the keys accepted without effect starts
NO_EFFECT = "accepted for SDK compatibility, has no effect: "


def no_effect_keys(cls: type, values: Mapping[str, Any]) -> list[str]:
    """``key (why)`` for each key of ``values`` accepted without effect.

    >>> no_effect_keys(EvalSettings, {"batch_size": 4, "do_validation": True})
    ['batch_size (each case is inferred on its own)']
    """
    return [f"{f.name} ({f.metadata['no_effect']})" for f in fields(cls)
            if f.metadata.get("no_effect") and f.name in values]


def describe_settings(cls: type) -> list[tuple[str, str, Any, str]]:
    """``(name, expected value, default, meaning)`` of each setting, for docs and schemas."""
    return [(f.name, expected(cls, f.name), f.default, f.metadata["meaning"])
            for f in fields(cls)]


__all__ = ["Determinism", "EvalSettings", "Rule", "TrainSettings", "describe_settings",
           "NO_EFFECT", "no_effect_keys", "parse_settings"]
