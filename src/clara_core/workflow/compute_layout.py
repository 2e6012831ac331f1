"""Compute layout: run a ``channels_first`` model as ``channels_last`` on CPUs.

TensorFlow's CPU kernels for 3D convolutions are channels-last only; Keras runs
``channels_first`` convolutions there through XLA with transposes around every
layer, 8-14 times slower per step and recompiled for every new input shape
(README, "Choosing a network"). SDK configs are channels-first throughout. On a
machine without a GPU the engine therefore builds the model component with
``data_format="channels_last"`` and puts one transpose at the input and one per
output: losses, metrics, inferers and checkpoints still see the config's
channels-first tensors, and the weights are the same arrays either way (Keras
kernels do not depend on the data format), so a checkpoint moves between CPU
and GPU machines.
"""

from __future__ import annotations

from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.model import Model
from clara_core.errors import ClaraError


def channels_last_twin(component: Model) -> Model | None:
    """The same model component with ``data_format="channels_last"``, or None when it
    is not ``channels_first`` or cannot be rebuilt (:meth:`Model.with_data_format`)."""
    if component.get_data_format() != "channels_first":
        return None
    return component.with_data_format("channels_last")


def build_channels_last(twin: Any, inputs: Any, build_ctx: Any) -> Any:
    """Outputs of ``twin`` (channels-last) on channels-first ``inputs``, as channels-first
    tensors (each of a list of deep-supervision outputs)."""
    from keras import layers

    rank = len(inputs.shape) - 1  # without the batch axis
    to_last = layers.Permute((*range(2, rank + 1), 1), name="to_channels_last")
    outputs = twin.get_predictions(to_last(inputs), build_ctx.get(BuildContext.KEY_IS_TRAIN, True),
                                   build_ctx)

    def back(x: Any, i: int) -> Any:
        if len(x.shape) != rank + 1:  # class scores: no spatial axes
            return x
        return layers.Permute((rank, *range(1, rank)), name=f"to_channels_first_{i}")(x)

    if isinstance(outputs, (list, tuple)):
        return [back(o, i) for i, o in enumerate(outputs)]
    return back(outputs, 0)


def build_model_outputs(component: Model, build_ctx: Any, cpu_only: bool,
                        log: Any = print) -> tuple[Any, Any]:
    """``(component used, outputs)``: the channels-last twin on a CPU-only machine when
    the component is channels-first and has one, else the component as configured."""
    twin = channels_last_twin(component) if cpu_only else None
    try:
        if twin is None:
            return component, component.build(build_ctx)
        log("compute layout: channels_last on CPU (the config's channels_first model runs "
            "with one transpose at its input and output)")
        return twin, build_channels_last(twin, build_ctx[BuildContext.KEY_MODEL_INPUT],
                                         build_ctx)
    except (ClaraError, MemoryError):
        raise
    except Exception as exc:  # a network that cannot build from the args it was given
        if type(exc).__name__ == "ResourceExhaustedError":  # out of memory: said elsewhere
            raise
        raise ClaraError(build_failure(component, exc)) from exc


def build_failure(component: Model, exc: BaseException) -> str:
    """The message of a model component that raised while building its network: the
    error and the line of code that raised it (a user's network, usually).

    >>> try:
    ...     int("x")
    ... except ValueError as e:
    ...     print(build_failure(Model(), e))  # doctest: +ELLIPSIS
    model Model failed to build its network: ValueError: invalid literal ... (<doctest ...>, line 2); check the model's args in the config
    """
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""
    return (f"model {type(component).__name__} failed to build its network: "
            f"{type(exc).__name__}: {exc}{where}; check the model's args in the config")


__all__ = ["build_channels_last", "build_failure", "build_model_outputs", "channels_last_twin"]
