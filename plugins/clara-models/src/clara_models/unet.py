"""``Unet``: the 2D/3D U-Net (Ronneberger et al. 2015; Çiçek et al. 2016) from Keras layers."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Model
from clara_core.validation import check_arguments

NORMALIZATIONS = ("batch", "instance", "group", "none")
ACTIVATIONS = ("softmax", "sigmoid", "linear")


class Unet(Model):
    """U-Net: ``depth`` poolings, two 3x3(x3) conv + norm + ReLU blocks per level,
    ``filters * 2**level`` channels, transposed-conv upsampling and skip concatenation.

    Spatial dimensionality (2D or 3D) follows the input. ``normalization`` is
    ``batch``, ``instance``, ``group`` (8 groups) or ``none``; ``dropout`` applies at
    the bottleneck. Input sizes must be divisible by ``2**depth``.
    """

    def __init__(self, num_classes: int, filters: int = 16, depth: int = 3,
                 normalization: str = "batch", final_activation: str = "softmax",
                 data_format: str = "channels_first", dropout: float = 0.0) -> None:
        Model.__init__(self)
        check_arguments("Unet", [
            ("num_classes", num_classes, num_classes >= 1, "an integer >= 1"),
            ("filters", filters, filters >= 1, "an integer >= 1"),
            ("depth", depth, 0 <= depth <= 6, "an integer in [0, 6]"),
            ("normalization", normalization, normalization in NORMALIZATIONS,
             f"one of {NORMALIZATIONS}"),
            ("final_activation", final_activation, final_activation in ACTIVATIONS,
             f"one of {ACTIVATIONS}"),
            ("data_format", data_format, data_format in ("channels_first", "channels_last"),
             "'channels_first' or 'channels_last'"),
            ("dropout", dropout, 0.0 <= dropout < 1.0, "a float in [0, 1)"),
        ])
        self.num_classes, self.filters, self.depth = num_classes, filters, depth
        self.normalization, self.final_activation = normalization, final_activation
        self.data_format, self.dropout = data_format, dropout

    def _norm(self, x: Any, axis: int) -> Any:
        from keras import layers

        if self.normalization == "batch":
            return layers.BatchNormalization(axis=axis)(x)
        channels = x.shape[axis]
        if self.normalization == "instance":
            return layers.GroupNormalization(groups=channels, axis=axis)(x)
        if self.normalization == "group":
            return layers.GroupNormalization(groups=min(8, channels), axis=axis)(x)
        return x

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        dims = len(inputs.shape) - 2
        if dims not in (2, 3):
            raise ValueError(f"Unet: input must be 2D or 3D with batch and channel axes, got "
                             f"shape {tuple(inputs.shape)}.")
        conv = layers.Conv3D if dims == 3 else layers.Conv2D
        up = layers.Conv3DTranspose if dims == 3 else layers.Conv2DTranspose
        pool = layers.MaxPooling3D if dims == 3 else layers.MaxPooling2D
        fmt = self.data_format
        axis = 1 if fmt == "channels_first" else -1

        def block(x: Any, n: int) -> Any:
            for _ in range(2):
                x = conv(n, 3, padding="same", data_format=fmt, use_bias=False)(x)
                x = self._norm(x, axis)
                x = layers.Activation("relu")(x)
            return x

        skips = []
        x = inputs
        for level in range(self.depth):
            x = block(x, self.filters * 2**level)
            skips.append(x)
            x = pool(2, data_format=fmt)(x)
        x = block(x, self.filters * 2**self.depth)
        if self.dropout:
            x = layers.Dropout(self.dropout)(x)
        for level in reversed(range(self.depth)):
            x = up(self.filters * 2**level, 2, strides=2, data_format=fmt)(x)
            x = layers.Concatenate(axis=axis)([x, skips[level]])
            x = block(x, self.filters * 2**level)
        x = conv(self.num_classes, 1, data_format=fmt, dtype="float32")(x)
        if self.final_activation == "softmax":
            return layers.Softmax(axis=axis, dtype="float32")(x)
        if self.final_activation == "sigmoid":
            return layers.Activation("sigmoid", dtype="float32")(x)
        return x
