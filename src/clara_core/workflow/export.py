"""Model files others can run: a TensorFlow SavedModel, ONNX and ``.keras``.

``clara train`` ends by saving ``model_final.keras`` (architecture and weights, Keras
layers only, so ``keras.models.load_model`` reloads it without clara).
:func:`export_model` loads that architecture with the chosen weights (best on the
key metric by default) and writes a SavedModel whose ``serve`` signature plain
TensorFlow loads (``tf.saved_model.load(path).serve(x)``), an ONNX file checked
against Keras with onnxruntime, or a ``.keras`` file. A fully convolutional network's
files take any batch and any spatial size it divides (checked with onnxruntime at
two sizes and two batch sizes); only a network that needs a fixed size (a ``Dense``
head) keeps one, and the export says why. Nothing existing is overwritten unless
asked; a replacement is atomic.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clara_core.atomic import atomic_path, atomic_write, replace_atomic
from clara_core.components.model import main_output
from clara_core.errors import ClaraError
from clara_core.mmar.model_shapes import (
    InputSizes,
    channel_axis,
    free_spatial_axes,
    input_sizes,
    size_text,
)
from clara_core.mmar.run_folder import RunFolder
from clara_core.mmar.trained_model import load_trained_model


def save_model_atomic(model: Any, path: str) -> None:
    """``model.save`` to a temporary ``.keras`` file beside ``path``, then rename."""
    atomic_write(path, model.save)


FORMATS = ("savedmodel", "onnx", "keras")


def trained_model(folder: RunFolder, weights: str = "best") -> Any:
    """The run's architecture (``model_final.keras``) with the chosen weights."""
    return load_trained_model(folder, weights, choose="--weights")


def export_model(folder: RunFolder, fmt: str = "savedmodel", weights: str = "best",
                 output: str | None = None, force: bool = False,
                 input_shape: tuple[int, ...] | None = None,
                 log: Callable[[str], None] | None = None) -> str:
    """Write the run's model as ``fmt`` (:data:`FORMATS`); return the path. An existing
    non-empty target is refused unless ``force``, which replaces it atomically. The
    file takes any batch and, for a fully convolutional network, any spatial size it
    divides; ``input_shape`` (ONNX) fixes the spatial sizes on request. ``log`` gets
    a line on the input sizes of the file."""
    if fmt not in FORMATS:
        raise ClaraError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if input_shape is not None and fmt != "onnx":
        raise ClaraError(f"--input-shape fixes the sizes of an ONNX file; a {fmt} export "
                         "keeps the model's own input sizes. Leave it out, or use --format onnx.")
    output = os.path.abspath(output or folder.exported(fmt))
    if os.path.exists(output) and not force and (
            not os.path.isdir(output) or os.listdir(output)):
        raise ClaraError(f"Cannot export to {output}: it exists and is not empty, and clara "
                         "never overwrites files it was not asked to. Choose another path "
                         "with -o, or add --force to replace it.")
    if fmt == "onnx":
        _onnx_modules()  # a missing package is a message before the model loads
    model = trained_model(folder, weights)  # free spatial axes where the network allows
    with atomic_path(output) as target:
        if fmt == "savedmodel":
            model.export(target, format="tf_saved_model", verbose=False)
        elif fmt == "keras":
            model.save(target)
        else:
            report = export_onnx(model, target, input_shape)
            if log is not None:
                log(report.describe())
    if log is not None and fmt != "onnx":
        log(f"input: {describe_input(input_sizes(model))}")
    return output


def export_saved_model(folder: RunFolder, weights: str = "best",
                       output: str | None = None, force: bool = False) -> str:
    """A SavedModel whose ``serve`` signature plain TensorFlow loads."""
    return export_model(folder, "savedmodel", weights, output, force)


def describe_input(sizes: InputSizes) -> str:
    """What an exported file takes, in words."""
    if sizes.is_free:
        multiple = "" if set(sizes.divisor) == {1} else \
            f" (multiples of {size_text(sizes.divisor)})"
        return f"any batch, any spatial size{multiple}"
    return f"any batch, spatial size fixed to {size_text(sizes.fixed)}: {sizes.why_fixed}"


@dataclass(frozen=True)
class OnnxReport:
    """How an ONNX file was checked: the largest difference from Keras over every
    spatial size and batch size run with onnxruntime."""

    max_diff: float
    sizes: tuple[tuple[int, ...], ...]
    batches: tuple[int, ...]
    input: str

    def describe(self) -> str:
        return (f"input: {self.input}; onnxruntime matches Keras to {self.max_diff:.1g} at "
                f"{' and '.join(size_text(s) for s in self.sizes)}, batches "
                f"{' and '.join(str(b) for b in self.batches)}")


def _onnx_modules() -> Any:
    try:
        import onnxruntime
        import tf2onnx  # noqa: F401  (Keras' ONNX export converts with it)
    except ImportError as exc:
        raise ClaraError(f"ONNX export needs tf2onnx and onnxruntime ({exc.name} is not "
                         'installed): pip install "clara-core[onnx]".') from None
    return onnxruntime


def check_sizes(sizes: InputSizes) -> tuple[tuple[int, ...], ...]:
    """Two spatial sizes an exported file is checked at: the smallest multiples of the
    divisor from 32 (a classifier's pooling needs some room), then the same grown by at
    least 8 on the axis whose divisor allows the smallest step: another size on every
    axis's own, at the least memory (a deep 3D network checked at 64^3 needs gigabytes);
    a fixed model at its fixed size.

    >>> check_sizes(InputSizes((None, None), (4, 32)))
    ((32, 32), (40, 32))
    >>> check_sizes(InputSizes((None, None, None), (32, 32, 32)))
    ((32, 32, 32), (64, 32, 32))
    >>> check_sizes(InputSizes((96, 96), (1, 1), "a Dense head"))
    ((96, 96),)
    """
    if not sizes.is_free:
        return (tuple(int(s) for s in sizes.fixed if s is not None),)
    first = tuple(-(-32 // d) * d for d in sizes.divisor)
    steps = [-(-8 // d) * d for d in sizes.divisor]
    axis = steps.index(min(steps))
    return first, tuple(s + steps[i] if i == axis else s for i, s in enumerate(first))


def _onnx_sizes(model: Any, input_shape: tuple[int, ...] | None) -> InputSizes:
    """The spatial sizes the file takes: the model's, or ``input_shape`` when asked."""
    sizes = input_sizes(model)
    if input_shape is None:
        return sizes
    sizes.check(input_shape, "--input-shape")
    return InputSizes(tuple(int(s) for s in input_shape), (1,) * len(input_shape),
                      "fixed by --input-shape")


def export_onnx(model: Any, path: str, input_shape: tuple[int, ...] | None = None,
                tolerance: float = 1e-4) -> OnnxReport:
    """Write ``model`` as ONNX (Keras 3's own export, through tf2onnx) with a free batch
    axis and free spatial axes (fixed where the network needs it or ``input_shape``
    asks), run it with onnxruntime at two spatial sizes and two batch sizes on random
    data and compare with Keras (an error above ``tolerance``)."""
    import warnings

    import numpy as np
    import tensorflow as tf

    onnxruntime = _onnx_modules()
    model = free_spatial_axes(model)[0]
    sizes, axis = _onnx_sizes(model, input_shape), channel_axis(model)
    shape = list(model.inputs[0].shape)
    spatial = list(range(2, len(shape)) if axis == 1 else range(1, len(shape) - 1))
    for i, s in zip(spatial, sizes.fixed, strict=True):
        shape[i] = s
    spec = [tf.TensorSpec((None, *shape[1:]), tf.float32, name="image")]
    try:
        with warnings.catch_warnings():  # Keras' converter probes np.object (NumPy 2)
            warnings.filterwarnings("ignore", category=FutureWarning, message=".*np.object")
            model.export(path, format="onnx", input_signature=spec, verbose=False)
    except ImportError as exc:
        raise ClaraError(f"ONNX export needs {exc.name or 'tf2onnx'}: pip install "
                         '"clara-core[onnx]".') from None
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name, rng, diff = session.get_inputs()[0].name, np.random.default_rng(0), 0.0
    checked = check_sizes(sizes)
    for size in checked:
        for batch in (1, 2):
            full = list(shape)
            full[0] = batch
            for i, s in zip(spatial, size, strict=True):
                full[i] = s
            x = rng.normal(size=full).astype(np.float32)
            got = session.run(None, {name: x})[0]
            want = np.asarray(main_output(model(x, training=False)))
            diff = max(diff, float(np.max(np.abs(got - want))))
    if diff > tolerance:
        raise ClaraError(f"The ONNX file {path} gives outputs up to {diff:.2g} away from the "
                         f"Keras model (more than {tolerance}); an operation did not convert "
                         "faithfully. Export a SavedModel instead.")
    return OnnxReport(diff, checked, (1, 2), describe_input(sizes))


__all__ = ["FORMATS", "OnnxReport", "check_sizes", "describe_input", "export_model",
           "export_onnx", "export_saved_model", "replace_atomic", "save_model_atomic",
           "trained_model"]
