"""Conformance checks of what reads, infers and writes cases: loaders (their format
declaration), inferers (whole images in, whole predictions out, either layout),
aux ops (one scalar per tag inside the compiled step) and writers (files where
their output arguments say, named as they declare)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from clara_core.components.aux_op import AuxOp
from clara_core.components.build_ctx import BuildContext
from clara_core.components.writer import Writer
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext
from clara_core.registry.formats import matching_suffix

#: the field validation puts the prediction in (the SDK's name)
PREDICTION = "model"


def check_loader_declaration(component: Any) -> None:
    """A loader's ``file_suffixes`` are lower-case endings starting with ``"."``; a
    loader that declares formats (or ``reads_folders``) is built by ``for_field``,
    with and without a dtype, as the engine builds the loader an input needs."""
    name, cls = type(component).__name__, type(component)
    if not component.is_loader:
        return
    for suffix in cls.file_suffixes:
        assert isinstance(suffix, str) and suffix.startswith(".") and suffix == suffix.lower(), (
            f"{name}.file_suffixes holds {suffix!r}: write each format as a lower-case file "
            "ending with its dot, e.g. (\".nii\", \".nii.gz\").")
    if not cls.file_suffixes and not cls.reads_folders:
        return
    for dtype in (None, "float32"):
        try:
            built = cls.for_field("image", dtype)
        except Exception as exc:
            raise AssertionError(
                f"{name}.for_field('image', {dtype!r}) raised {type(exc).__name__}: {exc}. "
                "The engine builds a loader it picked by format this way: take `fields` "
                "and `dtype`, or override for_field.") from exc
        assert isinstance(built, cls) and built.is_loader, (
            f"{name}.for_field() returned {built!r}, not a {name}.")


def default_inferer_input(inferer: Any, seed: int = 0) -> np.ndarray:
    """One batch of one channel, channels first: for a window inferer one axis a window
    and a half long, one shorter than the window (padded) and the rest a window long;
    otherwise 12x10x9."""
    roi = inferer.get_roi_size()
    sizes = [12, 10, 9] if not roi else [
        r + r // 2 + 1 if i == 0 else max(r - 3, 1) if i == 1 else r
        for i, r in enumerate(roi)]
    return np.random.default_rng(seed).normal(size=(1, 1, *sizes)).astype(np.float32)


def check_inferer_contract(component: Any,
                           sample: Callable[[Any], np.ndarray] | None = None) -> None:
    """``get_roi_size()`` is None or one size per spatial axis; with a model that
    doubles each voxel, the inferer returns twice the image, whole, in either layout
    (windows, padding and weights must add up to the model's own prediction)."""
    name = type(component).__name__
    roi = component.get_roi_size()
    assert roi is None or (isinstance(roi, list) and roi and all(
        isinstance(s, int) and s > 0 for s in roi)), (
        f"{name}.get_roi_size() is {roi!r}: return None (whole images) or a list of "
        "positive window sizes, one per spatial axis.")
    x = (sample or default_inferer_input)(component)
    for fmt in ("channels_first", "channels_last"):
        inputs = x if fmt == "channels_first" else np.moveaxis(x, 1, -1)
        out = np.asarray(component.infer(lambda w: w * 2.0, inputs, fmt))
        assert out.shape == inputs.shape, (
            f"{name}.infer(..., {fmt!r}) returned shape {out.shape} for input "
            f"{inputs.shape}: return the prediction of the whole image, in the input's layout.")
        assert np.allclose(out, inputs * 2.0, atol=1e-4), (
            f"{name}.infer(..., {fmt!r}) with a model that doubles each voxel is up to "
            f"{np.abs(out - inputs * 2).max():.3g} away from twice the image: the window "
            "weights must be normalised where windows overlap, and padding cropped back.")


def default_aux_op_context(aux_op: Any, seed: int = 0) -> BuildContext:
    """A train step's context: softmax predictions of 3 classes for two 8^3 volumes in
    the op's data format (channels first when it has none), a one-channel label map
    with values 0..2 and a loss of 0.5."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(2, 3, 8, 8, 8))
    pred = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
    label = rng.integers(0, 3, size=(2, 1, 8, 8, 8)).astype(np.float32)
    if aux_op.get_data_format() == "channels_last":
        pred, label = np.moveaxis(pred, 1, -1), np.moveaxis(label, 1, -1)
    return BuildContext({BuildContext.KEY_PREDICTIONS: pred, BuildContext.KEY_LABEL_INPUT: label,
                         BuildContext.KEY_LOSS_VALUE: np.float32(0.5)})


def check_aux_op_contract(component: AuxOp,
                          sample: Callable[[Any], BuildContext] | None = None) -> None:
    """``output_tags()`` are distinct names, and ``values()``, traced in a
    ``tf.function`` as the engine's train step traces it, gives one finite scalar per
    tag."""
    import tensorflow as tf

    name = type(component).__name__
    tags = component.output_tags()
    assert tags and all(isinstance(t, str) and t for t in tags) and len(set(tags)) == len(tags), (
        f"{name}.output_tags() is {tags!r}: return the distinct names it logs values under.")
    ctx = (sample or default_aux_op_context)(component)
    try:
        values = tf.function(lambda: component.values(ctx))()
    except Exception as exc:
        raise AssertionError(f"{name}.values() failed inside tf.function: "
                             f"{type(exc).__name__}: {exc}. Use TensorFlow operations (no "
                             ".numpy(), no Python branches on tensor values).") from exc
    assert sorted(values) == sorted(tags), (
        f"{name}.values() has keys {sorted(values)}, output_tags() {sorted(tags)}: give "
        "one value per tag.")
    for tag, value in values.items():
        assert tuple(value.shape) == () and bool(tf.math.is_finite(tf.cast(value, tf.float32))), (
            f"{name}.values()[{tag!r}] is {value}: give a finite scalar.")


def default_writer_case(writer: Any, seed: int = 0) -> TransformContext:
    """A validated case as writers get it: the image ``case_01.nii.gz`` (1x8x8x8, its
    affine) and, in ``model``, 2-channel class probabilities on its grid."""
    rng = np.random.default_rng(seed)
    props = {"filename": "/data/case_01.nii.gz", "affine": np.diag([1.5, 1.5, 2.0, 1.0]),
             "original_affine": np.diag([1.5, 1.5, 2.0, 1.0]), "original_shape": (8, 8, 8)}
    ctx = TransformContext()
    ctx.set_image("image", MedicalImage(rng.normal(size=(1, 8, 8, 8)), "CDHW", props))
    p = rng.random((1, 8, 8, 8))
    ctx.set_image(PREDICTION, MedicalImage(np.concatenate([1 - p, p]).astype(np.float32),
                                           "CDHW", dict(props)))
    return ctx


def _writes(writer: Writer, case: TransformContext, folder: str) -> tuple[list[str], list[str]]:
    """The paths ``write`` and ``finalize`` return, each checked to exist in ``folder``."""
    name = type(writer).__name__
    per_case, final = list(writer.write(case)), list(writer.finalize())
    assert per_case or final, f"{name} wrote nothing for a case (write() and finalize())."
    root = os.path.realpath(folder)
    for path in per_case + final:
        assert os.path.isfile(path), f"{name} returned {path}, which it did not write."
        assert os.path.commonpath([root, os.path.realpath(path)]) == root, (
            f"{name} wrote {path} outside its output folder {folder}: write under the "
            "folders its output_args name, which the engine resolves and checks.")
    return per_case, final


def check_writer_contract(component: Any,
                          sample: Callable[[Any], TransformContext] | None = None) -> None:
    """Rebuilt with each of its ``output_args`` in a temporary folder, the writer writes
    a case there and returns the paths; files per case are named as ``file_name_for``
    says and end with one of its ``file_suffixes``; one that declares formats is built
    by ``for_field`` too."""
    name, cls = type(component).__name__, type(component)
    make = sample or default_writer_case
    with tempfile.TemporaryDirectory() as folder:
        config = {**component.get_config(), **{a: folder for a in cls.output_args}}
        per_case, final = _writes(cls.from_config(config), make(component), folder)
        expected = component.file_name_for("case_01")
        if expected is not None:
            assert [os.path.basename(p) for p in per_case] == [expected], (
                f"{name} wrote {per_case} for case_01.nii.gz; file_name_for('case_01') "
                f"says {expected!r}.")
        for path in per_case + final:
            assert not cls.file_suffixes or matching_suffix(path, cls.file_suffixes), (
                f"{name} wrote {path}, whose ending is none of its file_suffixes "
                f"{cls.file_suffixes}.")
    if cls.file_suffixes:
        with tempfile.TemporaryDirectory() as folder:
            built = cls.for_field(PREDICTION, folder, "float32", "_pred")
            assert isinstance(built, cls), f"{name}.for_field() returned {built!r}."
            _writes(built, make(component), folder)


__all__ = ["check_aux_op_contract", "check_inferer_contract", "check_loader_declaration",
           "check_writer_contract", "default_aux_op_context", "default_inferer_input",
           "default_writer_case"]
