"""``SegResnet``: Myronenko's 3D MRI brain tumour segmentation network (BraTS 2018)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core import BuildContext, Model
from clara_core.arguments import check_arguments
from clara_models._layers import Ops, common_checks, int_list


class _ResBlock:
    """norm, ReLU, conv, norm, ReLU, conv, plus the input; callable on several tensors
    (the VAE decoder shares the segmentation decoder's blocks)."""

    def __init__(self, ops: Ops, n: int, normalization: str) -> None:
        from keras import layers

        self.layers = [ops.norm_layer(normalization, n), layers.Activation("relu"),
                       ops.conv_layer(n), ops.norm_layer(normalization, n),
                       layers.Activation("relu"), ops.conv_layer(n)]
        self.add = layers.Add()

    def __call__(self, x: Any) -> Any:
        y = x
        for layer in self.layers:
            y = layer(y)
        return self.add([x, y])


class SegResnet(Model):
    """Encoder-decoder with residual blocks (Myronenko 2018, arXiv:1810.11654).

    Encoder level ``i`` has ``init_filters * 2**i`` channels: a stride-2 3x3(x3)
    convolution (except level 0, after a 3x3 stem convolution), then
    ``blocks_down[i]`` residual blocks (norm, ReLU, conv, norm, ReLU, conv, plus
    the input). Each decoder level halves the channels with a 1x1 convolution,
    upsamples by 2 (nearest), adds the encoder's output of that level and runs
    ``blocks_up[j]`` residual blocks. The head is norm, ReLU, 1x1 convolution.
    Group normalisation (8 groups) as in the paper. ``dropout`` applies after the
    stem. Input sizes must be divisible by ``2**(len(blocks_down)-1)``.

    ``use_vae``: the paper's variational auto-encoder branch, a regulariser for
    small datasets. From the encoder's output: norm, ReLU, a stride-2 convolution
    to 16 channels, a dense layer to ``vae_nz`` means (and standard deviations if
    ``vae_estimate_std``, else ``vae_default_std``), a sample, and a decoder that
    shares the segmentation decoder's blocks (without skips) back to the input.
    ``get_loss()`` returns ``vae_weight * (mean squared reconstruction error + KL
    term)``, which the engine adds to the loss in every step (the paper's 0.1
    weights). Needs a fixed input shape: set ``"dynamic_input_shape": false``.

    Parameters for ``SegResnet(num_classes=2)`` on one input channel, 3D:
    1,176,186, as MONAI's ``SegResNet(in_channels=1, out_channels=2)``.

    The SDK's arguments keep their meaning: ``blocks_down``/``blocks_up`` as
    comma-separated strings (``"1,2,2,4"``), ``use_group_norm`` (false: batch
    normalisation), ``dropout_prob`` (the dropout after the stem) and ``reg_weight``
    (an L2 penalty of that weight on every convolution kernel, added to the loss),
    ``use_group_normG`` (the number of groups, 8 by default).

    >>> net = SegResnet(2, blocks_down="1,1,1", blocks_up="1,1", use_group_norm=False,
    ...                 dropout_prob=0.2)
    >>> net.blocks_down, net.normalization, net.dropout
    ([1, 1, 1], 'batch', 0.2)
    """

    def __init__(self, num_classes: int, init_filters: int = 8,
                 blocks_down: Sequence[int] | str = (1, 2, 2, 4),
                 blocks_up: Sequence[int] | str = (1, 1, 1),
                 normalization: str = "group", final_activation: str = "softmax",
                 data_format: str = "channels_first", dropout: float = 0.0,
                 use_vae: bool = False, vae_nz: int = 256, vae_estimate_std: bool = False,
                 vae_default_std: float = 0.3, vae_weight: float = 0.1,
                 use_group_norm: bool | None = None, dropout_prob: float | None = None,
                 reg_weight: float = 0.0, use_group_normG: int = 8) -> None:
        Model.__init__(self)
        owner = type(self).__name__
        blocks_down = int_list(owner, "blocks_down", blocks_down, 0, "1,2,2,4")
        blocks_up = int_list(owner, "blocks_up", blocks_up, 0, "1,1,1")
        if use_group_norm is not None:
            normalization = "group" if use_group_norm else "batch"
        if dropout_prob is not None:
            dropout = dropout_prob
        self.use_group_norm, self.dropout_prob, self.reg_weight = (use_group_norm, dropout_prob,
                                                                   reg_weight)
        check_arguments(owner, common_checks(owner, num_classes, normalization,
                                                   final_activation, data_format) + [
            ("init_filters", init_filters, init_filters >= 1, "an integer >= 1"),
            ("blocks_down", blocks_down, len(blocks_down) >= 1 and all(b >= 0 for b in
                                                                      blocks_down),
             "a non-empty list of block counts >= 0"),
            ("blocks_up", blocks_up, len(blocks_up) == len(blocks_down) - 1,
             f"a list of {len(blocks_down) - 1} block counts (one fewer than blocks_down)"),
            ("dropout", dropout, 0.0 <= dropout < 1.0, "a float in [0, 1)"),
            ("vae_nz", vae_nz, vae_nz >= 1, "an integer >= 1"),
            ("vae_weight", vae_weight, vae_weight >= 0, "a float >= 0"),
            ("reg_weight", reg_weight, reg_weight >= 0, "a float >= 0"),
            ("use_group_normG", use_group_normG,
             isinstance(use_group_normG, int) and use_group_normG >= 1, "an integer >= 1"),
        ])
        self.use_group_normG = use_group_normG
        self.num_classes, self.init_filters = num_classes, init_filters
        self.blocks_down, self.blocks_up = list(blocks_down), list(blocks_up)
        self.normalization, self.final_activation = normalization, final_activation
        self.data_format, self.dropout = data_format, dropout
        self.use_vae, self.vae_nz, self.vae_estimate_std = use_vae, vae_nz, vae_estimate_std
        self.vae_default_std, self.vae_weight = vae_default_std, vae_weight
        self._vae_loss: Any = None

    def get_loss(self) -> Any:
        """The VAE branch's loss of the current step (0 without ``use_vae``)."""
        return self._vae_loss.loss_value if self._vae_loss is not None else 0

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        ops = Ops(len(inputs.shape) - 2, self.data_format, "SegResnet", l2=self.reg_weight,
                  groups=self.use_group_normG)
        x = ops.conv_layer(self.init_filters)(inputs)
        if self.dropout:
            x = layers.Dropout(self.dropout)(x)
        skips = []
        for level, count in enumerate(self.blocks_down):
            n = self.init_filters * 2**level
            if level:
                x = ops.conv_layer(n, 3, strides=2)(x)
            for _ in range(count):
                x = _ResBlock(ops, n, self.normalization)(x)
            skips.append(x)
        encoded = x
        decoder = []
        for j, count in enumerate(self.blocks_up):
            level = len(self.blocks_down) - 2 - j
            n = self.init_filters * 2**level
            decoder.append((level, ops.conv_layer(n, 1), ops.upsample(2, data_format=ops.fmt),
                            [_ResBlock(ops, n, self.normalization) for _ in range(count)]))
        for level, squeeze, upsample, blocks in decoder:
            x = layers.Add()([upsample(squeeze(x)), skips[level]])
            for block in blocks:
                x = block(x)
        x = ops.norm(x, self.normalization)
        x = layers.Activation("relu")(x)
        segmentation = ops.head(x, self.num_classes, self.final_activation)
        if not self.use_vae:
            return segmentation
        return self._vae_branch(ops, inputs, encoded, decoder, segmentation)

    def _vae_branch(self, ops: Ops, inputs: Any, encoded: Any, decoder: list[Any],
                    segmentation: Any) -> Any:
        from keras import layers

        from clara_models.vae import GaussianSample, VAELoss

        spatial = inputs.shape[2:] if ops.axis == 1 else inputs.shape[1:-1]
        if any(s is None for s in spatial):
            raise ValueError('SegResnet: use_vae needs a fixed input shape; set '
                             '"dynamic_input_shape": false in the config (the crop size is '
                             "then the input size).")
        v = layers.Activation("relu")(ops.norm(encoded, self.normalization))
        v = ops.conv_layer(16, 3, strides=2)(v)
        small = v.shape[2:] if ops.axis == 1 else v.shape[1:-1]
        flat = layers.Flatten()(v)
        mean = layers.Dense(self.vae_nz)(flat)
        if self.vae_estimate_std:
            sigma = layers.Dense(self.vae_nz, activation="softplus")(flat)
            z, reg = GaussianSample(self.vae_default_std)([mean, sigma])
        else:
            z, reg = GaussianSample(self.vae_default_std)([mean])
        v = layers.Activation("relu")(layers.Dense(16 * int(_prod(small)))(z))
        v = layers.Reshape((16, *small) if ops.axis == 1 else (*small, 16))(v)
        top = self.init_filters * 2 ** (len(self.blocks_down) - 1)
        v = ops.upsample(2, data_format=ops.fmt)(ops.conv_layer(top, 1)(v))
        for _, squeeze, upsample, blocks in decoder:
            v = upsample(squeeze(v))
            for block in blocks:
                v = block(v)
        v = layers.Activation("relu")(ops.norm(v, self.normalization))
        channels = inputs.shape[ops.axis]
        reconstruction = ops.conv(channels, 1, data_format=ops.fmt)(v)
        self._vae_loss = VAELoss(self.vae_weight)
        return self._vae_loss([segmentation, inputs, reconstruction, reg])


def _prod(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= int(v)
    return out
