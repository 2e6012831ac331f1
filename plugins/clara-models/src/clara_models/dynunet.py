"""``DynUNet``: the nnU-Net style U-Net with per-level kernel sizes and strides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core import BuildContext, Model
from clara_core.arguments import check_arguments
from clara_models._layers import Ops, common_checks, final_activation


class DynUNet(Model):
    """U-Net configured level by level (Isensee et al. 2021, nnU-Net), as MONAI's DynUNet.

    Level ``i`` is a basic block (conv ``kernel_size[i]`` with stride ``strides[i]``,
    norm, LeakyReLU 0.01, conv, norm, LeakyReLU) with ``filters[i]`` channels
    (default ``min(32 * 2**i, 320)``); the last level is the bottleneck. Each decoder
    level upsamples with a transposed convolution of kernel and stride
    ``strides[i]``, concatenates the skip and runs a basic block. Kernels and strides
    are ints or per-axis lists. Instance normalisation by default.

    ``deep_supervision``: the model also returns, after the main output, one output
    from each of the ``deep_supr_num`` decoder levels below the top, upsampled to
    the input size; the engine adds their losses with weights halving per level
    (normalised to sum to one, as nnU-Net), and validates on the main output only.
    Parameters for ``DynUNet(num_classes=2)`` on one input channel, 3D: 16,543,650,
    as MONAI's ``DynUNet`` with the same kernels, strides and filters.
    """

    def __init__(self, num_classes: int, kernel_size: Sequence[Any] = (3, 3, 3, 3, 3),
                 strides: Sequence[Any] = (1, 2, 2, 2, 2), filters: Sequence[int] | None = None,
                 normalization: str = "instance", final_activation: str = "softmax",
                 data_format: str = "channels_first", deep_supervision: bool = False,
                 deep_supr_num: int = 1) -> None:
        Model.__init__(self)
        levels = len(kernel_size)
        owner = type(self).__name__
        check_arguments(owner, common_checks(owner, num_classes, normalization,
                                                 final_activation, data_format) + [
            ("kernel_size", kernel_size, levels >= 2, "a list of at least 2 kernel sizes"),
            ("strides", strides, len(strides) == levels,
             f"a list of {levels} strides (one per kernel size)"),
            ("filters", filters, filters is None or len(filters) == levels,
             f"null or a list of {levels} channel counts"),
            ("deep_supr_num", deep_supr_num, 1 <= deep_supr_num <= max(levels - 2, 1),
             f"an integer in [1, {max(levels - 2, 1)}]"),
        ])
        self.num_classes = num_classes
        self.kernel_size, self.strides = list(kernel_size), list(strides)
        self.filters = list(filters) if filters is not None else None
        self.normalization, self.final_activation = normalization, final_activation
        self.data_format = data_format
        self.deep_supervision, self.deep_supr_num = deep_supervision, deep_supr_num

    def channels(self) -> list[int]:
        return self.filters or [min(32 * 2**i, 320) for i in range(len(self.kernel_size))]

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        dims = len(inputs.shape) - 2
        ops = Ops(dims, self.data_format, "DynUNet")

        def per_axis(v: Any) -> tuple[int, ...]:
            return tuple(v) if isinstance(v, (list, tuple)) else (int(v),) * dims

        def act(x: Any) -> Any:
            return layers.LeakyReLU(negative_slope=0.01)(x)

        def basic(x: Any, n: int, kernel: Any, stride: Any) -> Any:
            x = ops.conv_layer(n, per_axis(kernel), per_axis(stride))(x)
            x = act(ops.norm(x, self.normalization))
            x = ops.conv_layer(n, per_axis(kernel))(x)
            return act(ops.norm(x, self.normalization))

        widths = self.channels()
        skips, x = [], inputs
        for i, (k, s) in enumerate(zip(self.kernel_size, self.strides, strict=True)):
            x = basic(x, widths[i], k, s)
            skips.append(x)
        decoded = []
        for i in reversed(range(len(widths) - 1)):
            up = per_axis(self.strides[i + 1])
            x = ops.up(widths[i], up, strides=up, padding="same", data_format=ops.fmt,
                       use_bias=False)(x)
            x = layers.Concatenate(axis=ops.axis)([x, skips[i]])
            x = basic(x, widths[i], self.kernel_size[i], 1)
            decoded.append((i, x))
        main = ops.head(x, self.num_classes, self.final_activation)
        if not self.deep_supervision:
            return main
        outputs = [main]
        for i, feature in decoded[-1 - self.deep_supr_num:-1][::-1]:
            factor = [1] * dims
            for s in self.strides[1:i + 1]:
                factor = [f * a for f, a in zip(factor, per_axis(s), strict=True)]
            y = ops.conv(self.num_classes, 1, data_format=ops.fmt, dtype="float32")(feature)
            y = ops.upsample(tuple(factor), data_format=ops.fmt, dtype="float32")(y)
            outputs.append(final_activation(y, self.final_activation, ops.axis))
        return outputs
