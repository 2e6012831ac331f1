"""Conformance checks of transforms: honest ``is_deterministic``, the same seed gives the
same output, ``probability`` 0 is the identity, consistent geometry, clear errors, the
fields it adds declared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from clara_core.components.transform import MultiFieldTransformer, Transformer
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext


def _fields_of(transform: Transformer) -> list[str]:
    if isinstance(transform, MultiFieldTransformer):
        return list(transform.fields)
    return [v for k, v in vars(transform).items()
            if (k == "field" or k.endswith("_field")) and isinstance(v, str)]


SAMPLE_AFFINE = np.array([[0.0, 0.0, 2.0, -40.0], [0.0, -1.5, 0.0, 30.0],
                          [1.5, 0.0, 0.0, -20.0], [0.0, 0.0, 0.0, 1.0]])


def default_sample(transform: Transformer, seed: int = 0) -> TransformContext:
    """A small synthetic case for each field of ``transform``: ``CDHW`` 1x16x16x16 images
    with an oblique affine and its spacing, integer 0/1 maps for fields whose name
    contains "label"."""
    rng = np.random.default_rng(seed)
    ctx = TransformContext()
    for field in _fields_of(transform):
        if "label" in field:
            data = (rng.random((1, 16, 16, 16)) > 0.7).astype(np.float32)
        else:
            data = rng.normal(size=(1, 16, 16, 16)).astype(np.float32)
        ctx.set_image(field, MedicalImage(data, "CDHW", {
            "filename": f"{field}.nii.gz", "affine": SAMPLE_AFFINE.copy(),
            "spacing": (1.5, 1.5, 2.0)}))
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


def _run_seeded(component: Any, ctx: TransformContext, seed: int) -> TransformContext:
    import copy

    t = copy.deepcopy(component)
    t.set_random_state(seed)
    return t.transform(ctx)  # type: ignore[no-any-return]


def _same(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The keys whose values differ."""
    def equal(x: Any, y: Any) -> bool:
        return bool(np.array_equal(x, y)) if isinstance(x, np.ndarray) else bool(x == y)

    return [k for k in sorted(set(a) | set(b)) if not equal(a.get(k), b.get(k))]


def check_same_seed_same_output(
    component: Any, sample: Callable[[Any], TransformContext] | None = None
) -> None:
    """A random transform seeded with ``set_random_state`` gives the same output twice:
    the pipeline's reproducibility across runs and worker counts rests on it."""
    if component.is_deterministic():
        return
    make = sample or default_sample
    for seed in (0, 1, 2):
        first = _snapshot(_run_seeded(component, make(component), seed))
        second = _snapshot(_run_seeded(component, make(component), seed))
        differ = _same(first, second)
        assert not differ, (
            f"{type(component).__name__}: two runs with random state {seed} differ in "
            f"{differ}: draw every random number from self.R (the generator "
            "set_random_state seeds), never from np.random or random.")


def check_probability_zero_is_identity(
    component: Any, sample: Callable[[Any], TransformContext] | None = None
) -> None:
    """A transform with a ``probability`` argument leaves its input unchanged at 0."""
    config = component.get_config()
    if "probability" not in config:
        return
    make = sample or default_sample
    off = type(component)(**{**config, "probability": 0.0})
    before = _snapshot(make(component))
    for seed in (0, 1, 2):
        after = _snapshot(_run_seeded(off, make(component), seed))
        differ = _same(before, after)
        assert not differ, (
            f"{type(component).__name__}(probability=0) changed {differ}: test the "
            "probability before changing anything (if self.R.random() >= probability: "
            "return the context as it is).")


def check_geometry_consistent(
    component: Any, sample: Callable[[Any], TransformContext] | None = None
) -> None:
    """After the transform, images on the same grid share one affine (image and label
    stay aligned), and each recorded spacing matches its affine's columns."""
    make = sample or default_sample
    name = type(component).__name__
    for seed in range(4):
        out = _run_seeded(component, make(component), seed)
        grids: dict[tuple[int, ...], tuple[str, np.ndarray]] = {}
        for field, value in out.items():
            if not isinstance(value, MedicalImage):
                continue
            affine = value.get_property("affine")
            if affine is None:
                continue
            affine = np.asarray(affine, float)
            fmt = value.get_shape_format()
            shape = tuple(value.get_data().shape[a] for a in fmt.get_spatial_axes())
            spacing = value.get_property("spacing")
            if spacing is not None and len(shape) == affine.shape[0] - 1:
                norms = np.linalg.norm(affine[:-1, :-1], axis=0)
                assert np.allclose(norms, spacing, rtol=1e-4), (
                    f"{name}: field {field!r} has spacing {tuple(spacing)} but its affine's "
                    f"columns have lengths {tuple(np.round(norms, 4))}: update both when the "
                    "voxel grid changes.")
            if shape in grids:
                other, other_affine = grids[shape]
                assert np.allclose(other_affine, affine, atol=1e-4), (
                    f"{name}: fields {other!r} and {field!r} have the same shape {shape} but "
                    f"different affines (random state {seed}): one random draw must move all "
                    "fields, and the affine must follow the data (a crop shifts it, a flip or "
                    "resample changes it).")
            else:
                grids[shape] = (field, affine)


def check_bad_input_clear_error(
    component: Any, sample: Callable[[Any], TransformContext] | None = None
) -> None:
    """Missing fields, and for loaders a missing file, give an error naming what is wrong."""
    make = sample or default_sample
    name = type(component).__name__
    good = make(component)
    loader = [k for k, v in good.items() if isinstance(v, str)]
    if loader:
        bad = TransformContext({**dict(good.items()),
                                **{k: f"/nonexistent/clara-kit/{k}.nii.gz" for k in loader}})
        expected = f"/nonexistent/clara-kit/{loader[0]}.nii.gz"
    else:
        bad = TransformContext()
        expected = "|".join(good.keys())
    config = component.get_config()
    if "probability" in config:  # the error must not depend on the draw
        component = type(component)(**{**config, "probability": 1.0})
    try:
        _run_seeded(component, bad, 0)
    except Exception as exc:
        assert any(e in str(exc) for e in expected.split("|")), (
            f"{name} failed on bad input with {type(exc).__name__}: {exc}; the message must "
            f"name {expected.replace('|', ' or ')!r} (the missing "
            f"{'file' if loader else 'field'}) "
            "so users can fix their datalist or config.")
        assert not isinstance(exc, AttributeError | IndexError | UnboundLocalError), (
            f"{name} failed on bad input with a bare {type(exc).__name__}: check inputs and "
            "raise ValueError/KeyError/FileNotFoundError with what to do.")
        return
    what = "a missing file" if loader else "a context without its fields"
    raise AssertionError(f"{name} accepted {what} without an error.")


def check_declared_fields(
    component: Any, sample: Callable[[Any], TransformContext] | None = None
) -> None:
    """Every field the transform adds to a case is one it declares
    (:meth:`~clara_core.components.transform.Transformer.fields_written`), since
    ``config check`` follows the declared fields along the chain."""
    written = component.fields_written()
    if written is None:  # not declared: config check does not follow it
        return
    ctx = (sample or default_sample)(component)
    before = set(ctx.keys())
    out = _run_seeded(component, ctx, 0)
    added = sorted(set(out.keys()) - before - set(written))
    assert not added, (
        f"{type(component).__name__} adds field(s) {added} that fields_written() does not "
        "name: declare them (output_field_args, or override fields_written; None when the "
        "names are not known) so that config check can follow them.")

