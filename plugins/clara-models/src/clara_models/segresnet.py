"""``SegResnet``: Myronenko's 3D MRI brain tumour segmentation network (BraTS 2018)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core import BuildContext, Model
from clara_core.validation import check_arguments
from clara_models._layers import Ops, common_checks


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

    The paper's variational auto-encoder branch (a regulariser for small
    datasets) is not built. Parameters for ``SegResnet(num_classes=2)`` on one
    input channel, 3D: 1,176,186, as MONAI's ``SegResNet(in_channels=1,
    out_channels=2)``.
    """

    def __init__(self, num_classes: int, init_filters: int = 8,
                 blocks_down: Sequence[int] = (1, 2, 2, 4), blocks_up: Sequence[int] = (1, 1, 1),
                 normalization: str = "group", final_activation: str = "softmax",
                 data_format: str = "channels_first", dropout: float = 0.0) -> None:
        Model.__init__(self)
        check_arguments("SegResnet", common_checks("SegResnet", num_classes, normalization,
                                                   final_activation, data_format) + [
            ("init_filters", init_filters, init_filters >= 1, "an integer >= 1"),
            ("blocks_down", blocks_down, len(blocks_down) >= 1 and all(b >= 0 for b in
                                                                      blocks_down),
             "a non-empty list of block counts >= 0"),
            ("blocks_up", blocks_up, len(blocks_up) == len(blocks_down) - 1,
             f"a list of {len(blocks_down) - 1} block counts (one fewer than blocks_down)"),
            ("dropout", dropout, 0.0 <= dropout < 1.0, "a float in [0, 1)"),
        ])
        self.num_classes, self.init_filters = num_classes, init_filters
        self.blocks_down, self.blocks_up = list(blocks_down), list(blocks_up)
        self.normalization, self.final_activation = normalization, final_activation
        self.data_format, self.dropout = data_format, dropout

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        ops = Ops(len(inputs.shape) - 2, self.data_format, "SegResnet")

        def res_block(x: Any, n: int) -> Any:
            y = x
            for _ in range(2):
                y = ops.norm(y, self.normalization)
                y = layers.Activation("relu")(y)
                y = ops.conv_layer(n)(y)
            return layers.Add()([x, y])

        x = ops.conv_layer(self.init_filters)(inputs)
        if self.dropout:
            x = layers.Dropout(self.dropout)(x)
        skips = []
        for level, count in enumerate(self.blocks_down):
            n = self.init_filters * 2**level
            if level:
                x = ops.conv_layer(n, 3, strides=2)(x)
            for _ in range(count):
                x = res_block(x, n)
            skips.append(x)
        for j, count in enumerate(self.blocks_up):
            level = len(self.blocks_down) - 2 - j
            n = self.init_filters * 2**level
            x = ops.conv_layer(n, 1)(x)
            x = ops.upsample(2, data_format=ops.fmt)(x)
            x = layers.Add()([x, skips[level]])
            for _ in range(count):
                x = res_block(x, n)
        x = ops.norm(x, self.normalization)
        x = layers.Activation("relu")(x)
        return ops.head(x, self.num_classes, self.final_activation)
