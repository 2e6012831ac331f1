"""The input sizes a trained Keras model takes, and a model file for any of them.

A fully convolutional network takes any spatial size its down-sampling divides, so
its model file keeps the spatial axes free (``None``) whatever crop it was trained
on: :func:`free_spatial_axes` rebuilds a model saved with a fixed input (the SDK's
``dynamic_input_shape: false``) with free axes and the same weights, and keeps the
fixed one only where the network truly needs it (a ``Dense`` head after
``Flatten``), saying why. :func:`input_sizes` reads what a model takes: fixed sizes,
or the divisor of each free axis (the product of the strides on the way down, read
off the layers' shapes at a probe size), and :meth:`InputSizes.check` turns a size
the network cannot take into a message naming the size, the divisor and the
nearest sizes that fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from clara_core.errors import ClaraError

#: the spatial size of the symbolic probe that reads a network's down-sampling (no
#: memory is used: only shapes are computed); divisible by 2**10 and 3
PROBE = 3 * 2**10


def size_text(size: Any) -> str:
    """``96x96x96``.

    >>> size_text((96, 96, 64)), size_text([None, 32])
    ('96x96x64', 'anyx32')
    """
    return "x".join("any" if s is None else str(int(s)) for s in size)


@dataclass(frozen=True)
class InputSizes:
    """What a model's input takes on its spatial axes: ``fixed`` sizes (``None`` on a
    free axis) and the ``divisor`` of each free axis; ``why_fixed`` says why a model
    file keeps a fixed size.

    >>> InputSizes((None, None), (8, 8)).problem((32, 24)) is None
    True
    >>> print(InputSizes((None, None), (8, 8)).problem((32, 30), "the window"))
    the window 32x30 does not fit the network: it takes spatial sizes divisible by 8x8 \
(its down-sampling halves them 3 times); use 32x24 or 32x32.
    >>> print(InputSizes((None, None), (1, 1), minimum=(32, 32)).problem((32, 16), "the crop"))
    the crop 32x16 is too small for the network: its down-sampling leaves no voxel of it; \
use at least 32x32.
    >>> print(InputSizes((96, 96), (1, 1), "a Dense head").problem((64, 64), "the window"))
    the window 64x64 does not fit the model: its input is fixed to 96x96 (a Dense head); \
use a window of 96x96.
    """

    fixed: tuple[int | None, ...]
    divisor: tuple[int, ...]
    why_fixed: str | None = None
    #: a classifier's smallest size per axis (its down-sampling must leave a voxel)
    minimum: tuple[int, ...] | None = None

    @property
    def is_free(self) -> bool:
        return all(s is None for s in self.fixed)

    def problem(self, size: Any, what: str = "the input") -> str | None:
        """Why ``size`` (spatial) does not fit, or None when it does."""
        size = tuple(int(s) for s in size)
        if len(size) != len(self.fixed):
            return (f"{what} has {len(size)} spatial axes ({size_text(size)}); the model "
                    f"takes {len(self.fixed)}.")
        if any(f is not None and f != s for f, s in zip(self.fixed, size, strict=True)):
            why = f" ({self.why_fixed})" if self.why_fixed else ""
            return (f"{what} {size_text(size)} does not fit the model: its input is fixed "
                    f"to {size_text(self.fixed)}{why}; use a window of "
                    f"{size_text(self.fixed)}.")
        if self.minimum and any(s < m for s, m in zip(size, self.minimum, strict=True)):
            least = [max(s, m) for s, m in zip(size, self.minimum, strict=True)]
            return (f"{what} {size_text(size)} is too small for the network: its "
                    f"down-sampling leaves no voxel of it; use at least {size_text(least)}.")
        if all(s % d == 0 for s, d in zip(size, self.divisor, strict=True)):
            return None
        lower = [max(d, s // d * d) for s, d in zip(size, self.divisor, strict=True)]
        upper = [-(-s // d) * d for s, d in zip(size, self.divisor, strict=True)]
        halvings = round(math.log2(max(self.divisor)))
        how = f" (its down-sampling halves them {halvings} times)" \
            if 2 ** halvings == max(self.divisor) else ""
        return (f"{what} {size_text(size)} does not fit the network: it takes spatial sizes "
                f"divisible by {size_text(self.divisor)}{how}; use {size_text(lower)} or "
                f"{size_text(upper)}.")

    def check(self, size: Any, what: str = "the input", fix: str = "") -> None:
        """Raise :class:`ClaraError` when ``size`` does not fit (``fix``: where to set it).
        The error passes through TensorFlow's tracing unchanged."""
        problem = self.problem(size, what)
        if problem:
            error = ClaraError(problem + (f" {fix}" if fix else ""))
            error.ag_pass_through = True  # type: ignore[attr-defined]  # autograph: as is
            raise error


def channel_axis(model: Any) -> int:
    """1 (channels first) or -1 (channels last): the one fixed axis of the input, else
    the input's transpose (a channels-first model computed channels-last) or the
    first layer that says."""
    shape = tuple(model.inputs[0].shape)[1:]
    known = [i for i, s in enumerate(shape) if s is not None]
    if len(known) == 1 and known[0] in (0, len(shape) - 1):
        return 1 if known[0] == 0 else -1
    if any(layer.name == "to_channels_last" for layer in model.layers[:3]):
        return 1
    for layer in model.layers:
        fmt = getattr(layer, "data_format", None)
        if fmt in ("channels_first", "channels_last"):
            return 1 if fmt == "channels_first" else -1
    return 1 if shape[0] is not None and (shape[-1] is None or shape[0] < shape[-1]) else -1


def spatial_of(shape: Any, axis: int) -> tuple[Any, ...]:
    """The spatial part of a batched shape, for the channel ``axis`` (1 or -1)."""
    dims: tuple[Any, ...] = tuple(shape)
    return dims[2:] if axis == 1 else dims[1:-1]


def _with_spatial(shape: Any, axis: int, spatial: Any) -> tuple[Any, ...]:
    shape = tuple(shape)
    return (shape[0], shape[1], *spatial) if axis == 1 else (shape[0], *spatial, shape[-1])


def _rewrite(config: Any, input_shape: tuple[Any, ...], dtype: str | None) -> Any:
    """The serialized model with ``input_shape`` at its inputs, no recorded build
    shapes (layers build on what they are called with) and, with ``dtype``, that
    dtype policy on every layer but the inputs."""
    if isinstance(config, list):
        return [_rewrite(c, input_shape, dtype) for c in config]
    if not isinstance(config, dict):
        return config
    if config.get("class_name") == "InputLayer":
        inner = dict(config["config"], batch_shape=input_shape)
        inner.pop("shape", None)
        return {**config, "config": inner}
    out = {k: _rewrite(v, input_shape, dtype) for k, v in config.items() if k != "build_config"}
    if dtype and out.get("class_name") == "DTypePolicy":
        out["config"] = {**out["config"], "name": dtype}
    return out


def rebuilt(model: Any, spatial: Any = None, dtype: str | None = None) -> Any:
    """``model`` rebuilt with ``spatial`` input sizes (``None``: free) and, with
    ``dtype`` (e.g. ``mixed_bfloat16``), that precision, with its weights; raises what
    Keras raises when the network cannot be built so."""
    import keras

    axis = channel_axis(model)
    shape = tuple(model.inputs[0].shape)
    spatial = spatial if spatial is not None else (None,) * len(spatial_of(shape, axis))
    config = _rewrite(keras.saving.serialize_keras_object(model),
                      _with_spatial(shape, axis, spatial), dtype)
    new = keras.saving.deserialize_keras_object(config)
    new.set_weights(model.get_weights())
    return new


def in_precision(model: Any, dtype: str) -> Any:
    """``model`` computing in ``dtype`` (``float16`` or ``bfloat16``) with its float32
    weights (Keras' mixed policy: normalizations and the softmax stay accurate enough
    for an argmax); its input size unchanged."""
    axis = channel_axis(model)
    return rebuilt(model, spatial_of(model.inputs[0].shape, axis), f"mixed_{dtype}")


def _reason(exc: BaseException) -> str:
    line = next((s.strip() for s in str(exc).splitlines() if s.strip()), type(exc).__name__)
    return line if len(line) < 200 else line[:197] + "..."


def free_spatial_axes(model: Any) -> tuple[Any, str | None]:
    """``(model with free spatial axes, None)``, or ``(model, why it keeps its fixed
    sizes)`` when the network cannot take other sizes."""
    axis = channel_axis(model)
    if all(s is None for s in spatial_of(model.inputs[0].shape, axis)):
        return model, None
    try:
        return rebuilt(model), None
    except Exception as exc:  # the network needs its sizes: Keras says which layer
        return model, f"the network needs a fixed size: {_reason(exc)}"


def input_sizes(model: Any) -> InputSizes:
    """The spatial sizes ``model`` takes (see :class:`InputSizes`). A network whose
    output has no spatial axes (a classifier) takes any size its input is free for."""
    axis = channel_axis(model)
    fixed = tuple(spatial_of(model.inputs[0].shape, axis))
    ones = (1,) * len(fixed)
    if any(s is not None for s in fixed):
        return InputSizes(fixed, ones, free_spatial_axes(model)[1] or "the saved model's size")
    outputs = model.outputs if isinstance(model.outputs, (list, tuple)) else [model.outputs]
    classifier = all(len(o.shape) != len(fixed) + 2 for o in outputs)
    try:
        probe = rebuilt(model, (PROBE,) * len(fixed))
    except Exception:  # a network that cannot be probed: any size is tried as it is
        return InputSizes(fixed, ones)
    smallest = [PROBE] * len(fixed)
    for layer in probe.layers:
        layer_axis = _layer_axis(layer)
        if layer_axis is None:  # no spatial semantics of its own (activations, merges)
            continue
        for out in _outputs(layer):
            if len(out.shape) == len(fixed) + 2:
                for i, s in enumerate(spatial_of(out.shape, layer_axis)):
                    if isinstance(s, int) and s > 0:
                        smallest[i] = min(smallest[i], s)
    divisor = tuple(max(1, PROBE // s) for s in smallest)
    if classifier:  # global pooling takes any size its down-sampling leaves a voxel of
        return InputSizes(fixed, ones, minimum=_smallest_size(model, max(divisor), len(fixed)))
    return InputSizes(fixed, divisor)


def _smallest_size(model: Any, divisor: int, dims: int) -> tuple[int, ...] | None:
    """The smallest power-of-two cube (up to ``divisor``) a classifier builds on with
    every layer's output non-empty (``same`` padding takes a single voxel, ``valid``
    pooling needs more); None when one voxel does."""
    def builds(size: int) -> bool:
        try:
            probe = rebuilt(model, (size,) * dims)
        except Exception:  # Keras refuses an empty axis
            return False
        return all(d is None or d > 0 for layer in probe.layers for out in _outputs(layer)
                   for d in out.shape)

    low, high = 0, max(0, round(math.log2(divisor)))  # exponents: 2**high always builds
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if builds(2 ** middle) else (middle + 1, high)
    return None if low == 0 else (2 ** low,) * dims


class CheckedPredict:
    """``predict(x)``: the model's main output for a batch ``x``, after checking that
    its spatial size fits (:meth:`InputSizes.check`: a message, not Keras' traceback).
    ``what`` names the size in the message, ``fix`` says where to change it."""

    def __init__(self, model: Any, what: str = "the window", fix: str = "") -> None:
        self.model, self.what, self.fix = model, what, fix
        keras_model = bool(getattr(model, "inputs", None))  # a served SavedModel: no check
        self.sizes = input_sizes(model) if keras_model else None
        self.axis = channel_axis(model) if keras_model else 1

    def check(self, size: Any) -> None:
        if self.sizes is not None:
            self.sizes.check(size, self.what, self.fix)

    def __call__(self, x: Any) -> Any:
        size = spatial_of(x.shape, self.axis)
        if self.sizes is not None and all(isinstance(s, int) for s in size):
            self.check(size)
        import keras

        out = self.model(x, training=False)
        out = out[0] if isinstance(out, (list, tuple)) else out
        return keras.ops.cast(out, "float32")  # a half-precision model's output too


def _layer_axis(layer: Any) -> int | None:
    """The channel axis a convolution, pooling or resizing ``layer`` computes in (a
    channels-first network may run channels-last inside, on CPU), else None."""
    fmt = getattr(layer, "data_format", None)
    if fmt in ("channels_first", "channels_last"):
        return 1 if fmt == "channels_first" else -1
    return None


def _outputs(layer: Any) -> list[Any]:
    try:
        out = layer.output
    except (AttributeError, ValueError):  # a layer called more than once
        return []
    return list(out) if isinstance(out, (list, tuple)) else [out]


__all__ = ["CheckedPredict", "InputSizes", "channel_axis", "free_spatial_axes", "in_precision",
           "input_sizes", "rebuilt", "size_text", "spatial_of"]
