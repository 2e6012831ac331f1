"""``Unet``: the 2D/3D U-Net (Ronneberger et al. 2015; Çiçek et al. 2016) from Keras layers."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Model
from clara_core.arguments import check_arguments
from clara_models._layers import Ops, common_checks, int_list


class Unet(Model):
    """U-Net: ``depth`` poolings, two 3x3(x3) conv + norm + ReLU blocks per level,
    ``filters * 2**level`` channels, transposed-conv upsampling and skip concatenation.

    Spatial dimensionality (2D or 3D) follows the input. ``normalization`` is
    ``batch``, ``instance``, ``group`` (8 groups) or ``none``; ``dropout`` applies at
    the bottleneck; ``residual`` adds each block's input (1x1-projected) to its
    output (residual units). Input sizes must be divisible by ``2**depth``.
    Parameters for ``Unet(num_classes=2)`` on one input channel, 3D: 1,402,690
    (1,401,282 trainable; the rest are batch-norm moving statistics).

    The SDK's form, ``nf_enc``/``nf_dec`` (lists or comma-separated strings such as
    ``"32,64,64,64"``), gives the filters level by level instead: each encoder level
    is a stride-2 convolution (with norm and ReLU) of ``nf_enc[i]`` filters; the
    first ``len(nf_enc)`` decoder entries are conv blocks each followed by 2x
    upsampling and the skip of the level above (the input itself last); further
    ``nf_dec`` entries are conv blocks at full resolution before the head. Input
    sizes must then be divisible by ``2**len(nf_enc)``.

    The SDK's ``use_batch_norm`` / ``use_group_norm`` switches choose
    ``normalization`` too: batch or group normalization, or none when both are false.

    >>> Unet(num_classes=2, nf_enc="32,64", nf_dec="64,32,16").get_config()["nf_dec"]
    '64,32,16'
    >>> Unet(num_classes=2, use_group_norm=False, use_batch_norm=False).normalization
    'none'
    """

    def __init__(self, num_classes: int, filters: int = 16, depth: int = 3,
                 normalization: str = "batch", final_activation: str = "softmax",
                 data_format: str = "channels_first", dropout: float = 0.0,
                 residual: bool = False, nf_enc: str | list[int] | None = None,
                 nf_dec: str | list[int] | None = None, use_batch_norm: bool | None = None,
                 use_group_norm: bool | None = None) -> None:
        Model.__init__(self)
        normalization = _sdk_normalization(normalization, use_batch_norm, use_group_norm)
        self.use_batch_norm, self.use_group_norm = use_batch_norm, use_group_norm
        self._enc = int_list("Unet", "nf_enc", nf_enc, 1, "32,64,64,64")
        self._dec = int_list("Unet", "nf_dec", nf_dec, 1, "64,64,64,64,64,32,32")
        if (nf_enc is None) != (nf_dec is None) or (
                self._enc and len(self._dec) < len(self._enc)):
            raise ValueError(f"Invalid values for arguments `nf_enc`/`nf_dec` of {type(self).__name__}: give both, "
                             "with at least as many decoder as encoder entries (e.g. nf_enc "
                             f'"32,64,64,64", nf_dec "64,64,64,64,64,32,32"); received {nf_enc!r}'
                             f"/{nf_dec!r}.")
        self.nf_enc, self.nf_dec = nf_enc, nf_dec
        owner = type(self).__name__
        check_arguments(owner, common_checks(owner, num_classes, normalization,
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

        if self._enc:
            return self._sdk_network(ops, inputs, block)
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

    def _sdk_network(self, ops: Any, inputs: Any, block: Any) -> Any:
        """The ``nf_enc``/``nf_dec`` network (see the class docstring)."""
        from keras import layers

        skips = [inputs]
        x = inputs
        for n in self._enc:
            x = ops.conv_layer(n, strides=2)(x)
            x = ops.norm(x, self.normalization)
            x = layers.Activation("relu")(x)
            skips.append(x)
        for i in range(len(self._enc)):
            x = block(x, self._dec[i])
            x = ops.upsample(2, data_format=ops.fmt)(x)
            x = layers.Concatenate(axis=ops.axis)([x, skips[-2 - i]])
        for n in self._dec[len(self._enc):]:
            x = block(x, n)
        return ops.head(x, self.num_classes, self.final_activation)


def _sdk_normalization(normalization: str, use_batch_norm: bool | None,
                       use_group_norm: bool | None) -> str:
    """``normalization`` as the SDK's two switches set it (when a config gives them)."""
    if use_batch_norm is None and use_group_norm is None:
        return normalization
    if use_batch_norm and use_group_norm:
        raise ValueError("Invalid values for arguments `use_batch_norm`/`use_group_norm` of "
                         "Unet: choose one normalization (or set `normalization` to batch, "
                         "instance, group or none); received true/true.")
    return "batch" if use_batch_norm else "group" if use_group_norm else "none"
