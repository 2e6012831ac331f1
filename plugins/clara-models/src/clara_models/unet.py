"""``Unet``: the 2D/3D U-Net (Ronneberger et al. 2015; Çiçek et al. 2016) from Keras layers."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Model
from clara_core.validation import check_arguments
from clara_models._layers import Ops, common_checks


class Unet(Model):
    """U-Net: ``depth`` poolings, two 3x3(x3) conv + norm + ReLU blocks per level,
    ``filters * 2**level`` channels, transposed-conv upsampling and skip concatenation.

    Spatial dimensionality (2D or 3D) follows the input. ``normalization`` is
    ``batch``, ``instance``, ``group`` (8 groups) or ``none``; ``dropout`` applies at
    the bottleneck; ``residual`` adds each block's input (1x1-projected) to its
    output (residual units). Input sizes must be divisible by ``2**depth``.
    Parameters for ``Unet(num_classes=2)`` on one input channel, 3D: 1,402,690
    (1,401,282 trainable; the rest are batch-norm moving statistics).
    """

    def __init__(self, num_classes: int, filters: int = 16, depth: int = 3,
                 normalization: str = "batch", final_activation: str = "softmax",
                 data_format: str = "channels_first", dropout: float = 0.0,
                 residual: bool = False) -> None:
        Model.__init__(self)
        check_arguments("Unet", common_checks("Unet", num_classes, normalization,
                                              final_activation, data_format) + [
            ("filters", filters, filters >= 1, "an integer >= 1"),
            ("depth", depth, 0 <= depth <= 6, "an integer in [0, 6]"),
            ("dropout", dropout, 0.0 <= dropout < 1.0, "a float in [0, 1)"),
        ])
        self.num_classes, self.filters, self.depth = num_classes, filters, depth
        self.normalization, self.final_activation = normalization, final_activation
        self.data_format, self.dropout, self.residual = data_format, dropout, residual

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        ops = Ops(len(inputs.shape) - 2, self.data_format, "Unet")

        def block(x: Any, n: int) -> Any:
            shortcut = x
            for _ in range(2):
                x = ops.conv_layer(n)(x)
                x = ops.norm(x, self.normalization)
                x = layers.Activation("relu")(x)
            if self.residual:
                x = layers.Add()([x, ops.conv_layer(n, 1)(shortcut)])
            return x

        skips = []
        x = inputs
        for level in range(self.depth):
            x = block(x, self.filters * 2**level)
            skips.append(x)
            x = ops.max_pool(2, data_format=ops.fmt)(x)
        x = block(x, self.filters * 2**self.depth)
        if self.dropout:
            x = layers.Dropout(self.dropout)(x)
        for level in reversed(range(self.depth)):
            x = ops.up(self.filters * 2**level, 2, strides=2, data_format=ops.fmt)(x)
            x = layers.Concatenate(axis=ops.axis)([x, skips[level]])
            x = block(x, self.filters * 2**level)
        return ops.head(x, self.num_classes, self.final_activation)
