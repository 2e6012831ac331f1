"""Keras layer choices shared by the networks: 2D/3D ops, normalisation, output head.

Only built-in Keras layers, so every network saves as ``.keras`` and reloads (and
exports as a SavedModel) without clara installed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core.arguments import DATA_FORMATS

NORMALIZATIONS = ("batch", "instance", "group", "none")
ACTIVATIONS = ("softmax", "sigmoid", "linear")


class Ops:
    """The Keras layer classes of one spatial dimensionality and data format."""

    def __init__(self, dims: int, data_format: str, owner: str, l2: float = 0.0,
                 groups: int = 8) -> None:
        from keras import layers

        if dims not in (2, 3):
            raise ValueError(f"{owner}: the input must be 2D or 3D with batch and channel axes "
                             f"(rank 4 or 5), got rank {dims + 2}.")
        self.dims, self.fmt = dims, data_format
        self.axis = 1 if data_format == "channels_first" else -1
        self.conv = layers.Conv3D if dims == 3 else layers.Conv2D
        self.up = layers.Conv3DTranspose if dims == 3 else layers.Conv2DTranspose
        self.max_pool = layers.MaxPooling3D if dims == 3 else layers.MaxPooling2D
        self.avg_pool = layers.AveragePooling3D if dims == 3 else layers.AveragePooling2D
        self.upsample = layers.UpSampling3D if dims == 3 else layers.UpSampling2D
        self.global_pool = layers.GlobalAveragePooling3D if dims == 3 \
            else layers.GlobalAveragePooling2D
        self.zero_pad = layers.ZeroPadding3D if dims == 3 else layers.ZeroPadding2D
        self.l2 = l2  # weight of an L2 penalty on convolution kernels (0: none)
        self.groups = groups  # of group normalisation (fewer where a layer has fewer channels)

    def conv_layer(self, filters: int, kernel: Any = 3, strides: Any = 1, bias: bool = False,
                   **kw: Any) -> Any:
        if self.l2:
            from keras import regularizers

            kw.setdefault("kernel_regularizer", regularizers.L2(self.l2))
        return self.conv(filters, kernel, strides=strides, padding="same",
                         data_format=self.fmt, use_bias=bias, **kw)

    def norm_layer(self, kind: str, channels: int) -> Any:
        """A normalisation layer for ``channels`` channels (identity for ``none``)."""
        from keras import layers

        if kind == "batch":  # PyTorch's defaults (momentum 0.1 there), which the reference
            # networks were trained with: Keras' 0.99 leaves the moving statistics of a
            # short run far from the data, and evaluation off by a constant
            return layers.BatchNormalization(axis=self.axis, momentum=0.9, epsilon=1e-5)
        if kind == "instance":
            return layers.GroupNormalization(groups=channels, axis=self.axis)
        if kind == "group":
            return layers.GroupNormalization(groups=_divisor(channels, self.groups),
                                             axis=self.axis)
        return layers.Identity()

    def norm(self, x: Any, kind: str) -> Any:
        if kind == "none":
            return x
        return self.norm_layer(kind, x.shape[self.axis])(x)

    def head(self, x: Any, num_classes: int, activation: str) -> Any:
        """1x1 convolution to ``num_classes`` and the final activation, in float32
        (mixed precision keeps outputs and losses in float32)."""

        x = self.conv(num_classes, 1, data_format=self.fmt, dtype="float32")(x)
        return final_activation(x, activation, self.axis)


def _divisor(channels: int, groups: int) -> int:
    """The largest group count <= ``groups`` that divides ``channels``.

    >>> _divisor(12, 8), _divisor(4, 8)
    (6, 4)
    """
    return next(g for g in range(min(groups, channels), 0, -1) if channels % g == 0)


def int_list(owner: str, name: str, value: str | Sequence[int] | None, minimum: int,
             example: str) -> list[int]:
    """``"32,64"`` (the SDK's string form) or ``[32, 64]`` -> ``[32, 64]``; None -> ``[]``.

    >>> int_list("Unet", "nf_enc", "32, 64", 1, "32,64")
    [32, 64]
    """
    if value is None:
        return []
    try:
        parts = value.split(",") if isinstance(value, str) else list(value)
        out = [int(p) for p in parts]
    except (TypeError, ValueError):
        out = []
    if not out or any(n < minimum for n in out):
        raise ValueError(f"Invalid value for argument `{name}` of {owner}: expected integers "
                         f">= {minimum} as a list or a comma-separated string such as "
                         f'"{example}", received {value!r}.')
    return out


def final_activation(x: Any, activation: str, axis: int = -1) -> Any:
    from keras import layers

    if activation == "softmax":
        return layers.Softmax(axis=axis, dtype="float32")(x)
    if activation == "sigmoid":
        return layers.Activation("sigmoid", dtype="float32")(x)
    return layers.Activation("linear", dtype="float32")(x)


def common_checks(owner: str, num_classes: int, normalization: str | None,
                  final_activation: str, data_format: str) -> list[tuple[str, Any, bool, str]]:
    """The argument checks every network shares, for ``check_arguments``."""
    checks = [
        ("num_classes", num_classes, isinstance(num_classes, int) and num_classes >= 1,
         "an integer >= 1"),
        ("final_activation", final_activation, final_activation in ACTIVATIONS,
         f"one of {ACTIVATIONS}"),
        ("data_format", data_format, data_format in DATA_FORMATS,
         "'channels_first' or 'channels_last'"),
    ]
    if normalization is not None:
        checks.append(("normalization", normalization, normalization in NORMALIZATIONS,
                       f"one of {NORMALIZATIONS}"))
    return checks
