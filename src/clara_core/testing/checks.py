"""Conformance checks. Each takes a component and raises AssertionError with a fix."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import numpy as np

from clara_core.components.base import Component
from clara_core.components.transform import MultiFieldTransformer, Transformer
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

Check = Callable[[Any], None]


def check_get_config_roundtrip(component: Any) -> None:
    """``get_config()`` is JSON and ``from_config`` rebuilds a component with the same config."""
    name = type(component).__name__
    config = component.get_config()
    try:
        text = json.dumps(config)
    except TypeError as exc:
        raise AssertionError(f"{name}.get_config() is not JSON-serialisable ({exc}): store "
                             "constructor arguments as given (numbers, strings, lists).") from None
    rebuilt = type(component).from_config(json.loads(text))
    again = rebuilt.get_config()
    assert json.dumps(again, sort_keys=True) == json.dumps(config, sort_keys=True), (
        f"{name}.from_config(get_config()) gives config {again}, expected {config}: the "
        "constructor must accept exactly what get_config() returns."
    )


@functools.lru_cache(maxsize=1)
def _registry() -> Any:
    from clara_core.registry.registry import Registry

    return Registry()


def check_name_resolves(component: Any) -> None:
    """The component's class is registered under a ``clara.*`` entry point and resolves."""
    registry = _registry()
    cls = type(component)
    target = f"{cls.__module__}:{cls.__qualname__}"
    for entry in registry.entries():
        if entry.target == target or entry.target is cls:
            resolved = registry.resolve(entry.kind, entry.qualified_name)
            assert resolved is cls, (f"{entry.describe()} resolves to {resolved!r}, "
                                     f"not {cls!r}.")
            return
    raise AssertionError(
        f"{cls.__name__} ({target}) is not registered under any clara.* entry point: add "
        f'{cls.__name__} = "{target}" to [project.entry-points."clara.<kind>"] in your '
        "pyproject.toml and reinstall the distribution."
    )


def _fields_of(transform: Transformer) -> list[str]:
    if isinstance(transform, MultiFieldTransformer):
        return list(transform.fields)
    return [v for k, v in vars(transform).items() if k.endswith("_field") and isinstance(v, str)]


def default_sample(transform: Transformer, seed: int = 0) -> TransformContext:
    """A small synthetic case for each field of ``transform``: ``CDHW`` 1x16x16x16 images,
    with integer 0/1 maps for fields whose name contains "label"."""
    rng = np.random.default_rng(seed)
    ctx = TransformContext()
    for field in _fields_of(transform):
        if "label" in field:
            data = (rng.random((1, 16, 16, 16)) > 0.7).astype(np.float32)
        else:
            data = rng.normal(size=(1, 16, 16, 16)).astype(np.float32)
        ctx.set_image(field, MedicalImage(data, "CDHW", {"filename": f"{field}.nii.gz"}))
    return ctx


def _snapshot(ctx: TransformContext) -> dict[str, Any]:
    return {k: v.get_data() if isinstance(v, MedicalImage) else v for k, v in ctx.items()}


def check_is_deterministic_honest(
    component: Any, sample: Callable[[Any], TransformContext] | None = None
) -> None:
    """A transform that says ``is_deterministic()`` gives the same output for the same input."""
    make = sample or default_sample
    name = type(component).__name__
    if not component.is_deterministic():
        return
    out = [_snapshot(component.transform(make(component))) for _ in range(2)]
    for key in out[0]:
        a, b = out[0][key], out[1][key]
        same = np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
        assert same, (f"{name}.is_deterministic() is True but field {key!r} differs between two "
                      "runs on the same input: override is_deterministic() to return False so "
                      "the pipeline does not cache it.")


def checks_for(component: Any) -> list[Check]:
    """The checks that apply to ``component``'s kind."""
    checks: list[Check] = []
    if isinstance(component, Component):
        checks += [check_get_config_roundtrip, check_name_resolves]
    if isinstance(component, Transformer):
        checks.append(check_is_deterministic_honest)
    return checks

