"""Model files others can run: a TensorFlow SavedModel, ONNX and ``.keras``.

``clara train`` ends by saving ``model_final.keras`` (architecture and weights, Keras
layers only, so ``keras.models.load_model`` reloads it without clara).
:func:`export_model` loads that architecture with the chosen weights (best on the
key metric by default) and writes a SavedModel whose ``serve`` signature plain
TensorFlow loads (``tf.saved_model.load(path).serve(x)``), an ONNX file checked
against Keras with onnxruntime, or a ``.keras`` file. Nothing existing is
overwritten unless asked; a replacement is atomic.
"""

from __future__ import annotations

import os
from typing import Any

from clara_core.atomic import atomic_path, atomic_write, replace_atomic
from clara_core.errors import ClaraError
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
                 input_shape: tuple[int, ...] | None = None) -> str:
    """Write the run's model as ``fmt`` (:data:`FORMATS`); return the path. An existing
    non-empty target is refused unless ``force``, which replaces it atomically."""
    if fmt not in FORMATS:
        raise ClaraError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    output = os.path.abspath(output or folder.exported(fmt))
    if os.path.exists(output) and not force and (
            not os.path.isdir(output) or os.listdir(output)):
        raise ClaraError(f"Cannot export to {output}: it exists and is not empty, and clara "
                         "never overwrites files it was not asked to. Choose another path "
                         "with -o, or add --force to replace it.")
    model = trained_model(folder, weights)
    with atomic_path(output) as target:
        if fmt == "savedmodel":
            model.export(target, format="tf_saved_model", verbose=False)
        elif fmt == "keras":
            model.save(target)
        else:
            export_onnx(model, target, input_shape)
    return output


def export_saved_model(folder: RunFolder, weights: str = "best",
                       output: str | None = None, force: bool = False) -> str:
    """A SavedModel whose ``serve`` signature plain TensorFlow loads."""
    return export_model(folder, "savedmodel", weights, output, force)


def fixed_input(model: Any, input_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    """The model's input shape without the batch axis, with ``input_shape`` (spatial
    sizes) filling the free axes; ONNX files here have a fixed size."""
    shape = list(tuple(model.inputs[0].shape)[1:])
    free = [i for i, s in enumerate(shape) if s is None]
    if free and (input_shape is None or len(input_shape) != len(free)):
        raise ClaraError(f"The model takes inputs of shape {tuple(shape)}; give the sizes of "
                         f"its {len(free)} free axes with --input-shape (for example "
                         f"--input-shape {' '.join(['96'] * len(free))}).")
    for i, size in zip(free, input_shape or (), strict=False):
        shape[i] = int(size)
    return tuple(int(s) for s in shape)


def export_onnx(model: Any, path: str, input_shape: tuple[int, ...] | None = None,
                tolerance: float = 1e-4) -> float:
    """Write ``model`` as ONNX (Keras 3's own export, through tf2onnx) at a fixed input
    size, run it with onnxruntime on random data and compare with Keras; returns the
    largest absolute difference (an error above ``tolerance``)."""
    import numpy as np

    try:
        import onnxruntime
        import tensorflow as tf
    except ImportError:
        raise ClaraError("ONNX export needs tf2onnx and onnxruntime: pip install "
                         "'clara-core[onnx]' (or pip install tf2onnx onnxruntime).") from None
    shape = fixed_input(model, input_shape)
    spec = [tf.TensorSpec((1, *shape), tf.float32, name="image")]
    try:
        model.export(path, format="onnx", input_signature=spec, verbose=False)
    except ImportError:
        raise ClaraError("ONNX export needs tf2onnx: pip install tf2onnx onnxruntime.") from None
    x = np.random.default_rng(0).normal(size=(1, *shape)).astype(np.float32)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    want = model(x, training=False)
    want = np.asarray(want[0] if isinstance(want, (list, tuple)) else want)
    diff = float(np.max(np.abs(got - want)))
    if diff > tolerance:
        raise ClaraError(f"The ONNX file {path} gives outputs up to {diff:.2g} away from the "
                         f"Keras model (more than {tolerance}); an operation did not convert "
                         "faithfully. Export a SavedModel instead.")
    return diff


__all__ = ["FORMATS", "export_model", "export_onnx", "export_saved_model", "replace_atomic",
           "save_model_atomic", "trained_model"]
