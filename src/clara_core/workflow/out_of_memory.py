"""Running out of memory is a message: what did not fit, which config values set its
size, and what to try.

TensorFlow says ``ResourceExhaustedError`` ("OOM when allocating tensor with
shape[...]") when a device or host allocation fails; NumPy says ``MemoryError``
("Unable to allocate ... with shape (...)"). :func:`explain_out_of_memory` turns
either, raised anywhere inside it, into one :class:`OutOfMemory` error (a
:class:`~clara_core.errors.ClaraError`, so ``clara`` prints it without a
traceback) naming the shape, the values of the config that set it (batch size,
crop or window size, model width, workers, mixed precision) with the ``--set``
that lowers them, and for training the resume point the trainer wrote.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from clara_core.errors import ClaraError

#: the arguments that set a crop or window size, and a model's width
SIZE_ARGS = ("size", "roi_size", "spatial_size", "patch_size", "crop_size")
WIDTH_ARGS = ("filters", "init_filters", "num_filters", "base_filters", "nf_enc",
              "num_init_features", "growth_rate")


class OutOfMemory(ClaraError):
    """A run ran out of device or host memory (see the module docstring)."""


def is_out_of_memory(exc: BaseException) -> bool:
    """NumPy's ``MemoryError`` or TensorFlow's ``ResourceExhaustedError`` (by name: no
    TensorFlow import), or an error whose text is TensorFlow's out-of-memory text.

    >>> is_out_of_memory(MemoryError()), is_out_of_memory(ValueError("bad value"))
    (True, False)
    """
    if isinstance(exc, MemoryError):
        return True
    if any(c.__name__ == "ResourceExhaustedError" for c in type(exc).__mro__):
        return True
    return isinstance(exc, Exception) and type(exc).__module__.startswith("tensorflow") and (
        "OOM when allocating" in str(exc) or "RESOURCE_EXHAUSTED" in str(exc))


def what_did_not_fit(exc: BaseException) -> str:
    """The shape (and device) the error names, in words.

    >>> what_did_not_fit(MemoryError("Unable to allocate 4.00 GiB for an array with "
    ...                               "shape (4096, 1, 64, 64, 64) and data type float32"))
    'an array of shape 4096x1x64x64x64 (float32, 4.00 GiB) in host memory'
    >>> what_did_not_fit(RuntimeError("OOM when allocating tensor with shape[12,32,96,96,96] "
    ...                               "and type float on /job:localhost/replica:0/task:0/"
    ...                               "device:GPU:0 by allocator GPU_0_bfc"))
    'a tensor of shape 12x32x96x96x96 (float) on GPU:0'
    """
    text = str(exc)
    tf_shape = re.search(r"shape\s*\[([\d,\s]+)\](?:\s*and type (\w+))?", text)
    if tf_shape:
        dims = "x".join(d.strip() for d in tf_shape.group(1).split(",") if d.strip())
        device = re.search(r"device:(\w+:\d+)", text)
        kind = f" ({tf_shape.group(2)})" if tf_shape.group(2) else ""
        return f"a tensor of shape {dims}{kind}" + (f" on {device.group(1)}" if device else "")
    np_shape = re.search(r"allocate ([\d.]+ \w+) for an array with shape \(([\d,\s]*)\)"
                         r"(?: and data type (\w+))?", text)
    if np_shape:
        dims = "x".join(d.strip() for d in np_shape.group(2).split(",") if d.strip())
        kind = f"{np_shape.group(3)}, " if np_shape.group(3) else ""
        return f"an array of shape {dims} ({kind}{np_shape.group(1)}) in host memory"
    return "an allocation" + (f" ({text.splitlines()[0][:160]})" if text.strip() else "")


def _section(config: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        config = config.get(key) if isinstance(config, Mapping) else None  # type: ignore[assignment]
    return config


def _component_arg(config: Mapping[str, Any], path: str, names: tuple[str, ...]
                   ) -> tuple[str, Any] | None:
    """``(config path, value)`` of the first of ``names`` in the component at ``path``."""
    component = _section(config, *path.split("."))
    args = component.get("args") if isinstance(component, Mapping) else None
    if not isinstance(args, Mapping):
        return None
    name = next((n for n in names if n in args), None)
    return (f"{path}.args.{name}", args[name]) if name else None


def _crop(config: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The training crop: the size argument of a train pre-transform."""
    for t in _section(config, "train", "pre_transforms") or []:
        args = t.get("args") if isinstance(t, Mapping) else None
        name = next((n for n in SIZE_ARGS if isinstance(args, Mapping) and n in args), None)
        if name and isinstance(args, Mapping):
            return f"{t.get('name', 'a transform')}'s {name}", args[name]
    return None


def memory_values(config: Mapping[str, Any], command: str,
                  window: Any = None) -> list[tuple[str, str, Any]]:
    """``(what, where in the config, value)`` of the sizes behind a run's memory."""
    found: list[tuple[str, str, Any]] = []

    def add(what: str, hit: tuple[str, Any] | None) -> None:
        if hit is not None:
            found.append((what, *hit))

    if command == "train":
        add("batch size", _component_arg(config, "train.image_pipeline",
                                         ("output_batch_size", "batch_size")))
        add("crop size", _crop(config))
        add("workers", _component_arg(config, "train.image_pipeline", ("num_workers",)))
    inferer = "inferer" if "train" not in config else "validate.inferer"
    add("window size", ("--roi-size", window) if window else
        _component_arg(config, inferer, ("roi_size",)))
    add("windows per call", _component_arg(config, inferer, ("batch_size", "sw_batch_size")))
    add("model width", _component_arg(config, "train.model", WIDTH_ARGS))
    if command == "train":
        found.append(("mixed precision", "use_amp", bool(config.get("use_amp", False))))
    return found


def _tips(values: list[tuple[str, str, Any]], command: str) -> list[str]:
    tips = []
    for what, where, value in values:
        if what == "batch size" and isinstance(value, int) and value > 1:
            tips.append(f"a smaller batch (--set {where}={max(1, value // 2)})")
        elif what == "windows per call" and isinstance(value, int) and value > 1:
            tips.append(f"fewer windows per call (--set {where}=1)")
        elif what == "workers" and isinstance(value, int) and value > 1:
            tips.append(f"fewer workers (--set {where}=1)")
        elif what == "mixed precision" and not value:
            tips.append("mixed precision (--set use_amp=true)")
    if command == "infer":
        tips += ["a smaller --roi-size or --sw-batch-size 1", "half precision (--amp)"]
    elif command != "train":
        tips.append("a smaller window (the inferer's roi_size)")
    else:
        if not any(what == "workers" for what, _, _ in values):
            tips.append("fewer data workers (the image_pipeline's num_workers)")
        tips.append("a smaller crop or a narrower model")
    return tips


def out_of_memory_message(exc: BaseException, command: str, config: Mapping[str, Any],
                          window: Any = None, resume: str | None = None) -> str:
    """The message :class:`OutOfMemory` carries (see the module docstring)."""
    values = memory_values(config, command, window)
    kind = "TensorFlow's ResourceExhaustedError" if not isinstance(exc, MemoryError) \
        else "NumPy's MemoryError"
    said = "; ".join(f"{what} {value} ({where})" for what, where, value in values)
    text = (f"clara {command} ran out of memory ({kind}): {what_did_not_fit(exc)} did not "
            f"fit. " + (f"The config sets: {said}. " if said else "")
            + f"Try {', '.join(_tips(values, command))}.")
    return text + (f" {resume}" if resume else "")


#: forward activations a sample keeps for the backward pass, in voxels x model width:
#: 20-31 for clara-models' Unet, SegResnet and DynUNet (their layer outputs summed)
ACTIVATIONS_PER_WIDTH = 20


def _first_number(value: Any) -> int | None:
    """A width: an integer, or the first of a list or of ``"32,64,64"``."""
    if isinstance(value, str):
        value = value.split(",")[0].strip()
        return int(value) if value.isdigit() else None
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def memory_found() -> tuple[int, str]:
    """``(bytes, what)``: the first GPU's memory when ``nvidia-smi`` answers, else RAM."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total",
                                  "--format=csv,noheader,nounits"], capture_output=True,
                                 text=True, timeout=10).stdout.split()
            if out and out[0].isdigit():
                return int(out[0]) * 2**20, "GPU memory"
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES")), "memory"
    except (AttributeError, ValueError, OSError):
        return 0, "memory"


def activation_estimate(config: Mapping[str, Any]) -> tuple[float, str] | None:
    """``(bytes, how)``: a rough lower bound of a train config's activation memory
    (batch x crop voxels x model width x :data:`ACTIVATIONS_PER_WIDTH` x 4 bytes, 2
    with mixed precision), or None when the config does not say all three.

    >>> config = {"train": {"image_pipeline": {"args": {"output_batch_size": 12}},
    ...   "pre_transforms": [{"name": "Crop", "args": {"size": [96, 96, 96]}}],
    ...   "model": {"args": {"nf_enc": "32,64,64,64"}}}}
    >>> round(activation_estimate(config)[0] / 2**30, 1)
    25.3
    """
    values = {what: value for what, _, value in memory_values(config, "train")}
    batch, crop = values.get("batch size"), values.get("crop size")
    width = _first_number(values.get("model width"))
    if not isinstance(batch, int) or not isinstance(crop, list) or width is None or \
            not all(isinstance(c, int) for c in crop):
        return None
    bytes_per = 2 if values.get("mixed precision") else 4
    need = float(batch) * math.prod(crop) * width * ACTIVATIONS_PER_WIDTH * bytes_per
    how = (f"batch {batch} x crop {'x'.join(map(str, crop))} x width {width} x about "
           f"{ACTIVATIONS_PER_WIDTH} activations x {bytes_per} bytes")
    return need, how


#: the share of the memory found that the activations may take before ``config check``
#: warns: TensorFlow, the model's weights and gradients, convolution workspaces and the
#: data pipeline's cases take the rest (the SDK's trn1_BT, estimated at 0.9 of this
#: 24 GiB machine, was killed by the system at its first step)
ACTIVATION_SHARE = 0.75


def memory_warning(config: Mapping[str, Any], found: tuple[int, str] | None = None
                   ) -> str | None:
    """A warning when a train config's activations (a lower bound) take more than
    :data:`ACTIVATION_SHARE` of the memory found.

    >>> config = {"train": {"image_pipeline": {"args": {"output_batch_size": 4}},
    ...   "pre_transforms": [{"name": "Crop", "args": {"size": [128, 128, 128]}}],
    ...   "model": {"args": {"nf_enc": "32,64,64,64"}}}}
    >>> print(memory_warning(config, (24 * 2**30, "memory"))[:89])
    the training activations need about 20 GiB (batch 4 x crop 128x128x128 x width 32 x about
    >>> memory_warning(config, (48 * 2**30, "memory")) is None
    True
    """
    estimate = activation_estimate(config)
    limit, what = found or memory_found()
    if estimate is None or limit <= 0 or estimate[0] <= ACTIVATION_SHARE * limit:
        return None
    gib = 2**30
    tips = ", ".join(t for t in _tips(memory_values(config, "train"), "train"))
    if estimate[0] > limit:
        verdict = (f"more than the {limit / gib:.0f} GiB of {what} found: the first step "
                   "will likely run out of memory")
    else:
        verdict = (f"most of the {limit / gib:.0f} GiB of {what} found, and TensorFlow, "
                   "the weights and the data pipeline need the rest: the first step may run "
                   "out of memory (on a CPU the system then stops the process without a "
                   "message)")
    return (f"the training activations need about {estimate[0] / gib:.0f} GiB "
            f"({estimate[1]}), {verdict}. Try {tips}.")


@contextlib.contextmanager
def explain_out_of_memory(command: str, config: Mapping[str, Any], window: Any = None,
                          resume: Callable[[], str | None] | None = None) -> Iterator[None]:
    """Inside the block, running out of memory raises :class:`OutOfMemory` (``resume()``
    says what the trainer left to continue from)."""
    try:
        yield
    except OutOfMemory:
        raise
    except Exception as exc:  # MemoryError included
        if not is_out_of_memory(exc):
            raise
        raise OutOfMemory(out_of_memory_message(
            exc, command, config, window, resume() if resume else None)) from None


__all__ = ["OutOfMemory", "activation_estimate", "explain_out_of_memory", "is_out_of_memory",
           "memory_found", "memory_values", "memory_warning", "out_of_memory_message",
           "what_did_not_fit"]
