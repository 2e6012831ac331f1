"""Classification networks, 2D or 3D: ``ResNet18``/``34``/``50``, ``DenseNet121`` and the
SDK's ``Alexnet``.

Built as the papers describe them (He et al. 2016; Huang et al. 2017), as
torchvision and MONAI build them: convolutions without bias followed by batch
normalisation, a 7x7(x7) stride-2 stem and 3x3 max pooling, global average
pooling and one dense layer. For 2D, 3 input channels and 1000 classes the
trainable parameter counts equal torchvision's: ResNet18 11,689,512; ResNet34
21,797,672; ResNet50 25,557,032; DenseNet121 7,978,856 (Keras counts the batch
norms' moving statistics too, as non-trainable weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core import BuildContext, Model
from clara_core.arguments import check_arguments
from clara_models._layers import Ops, common_checks, final_activation, int_list


class _Classifier(Model):
    no_effect_args = {
        "pretrain_weight_name": "ImageNet weights are not bundled (no downloads at run "
                                "time); the network starts from random weights",
    }

    def __init__(self, num_classes: int, final_activation: str = "softmax",
                 data_format: str = "channels_first", dropout: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        Model.__init__(self)
        owner = type(self).__name__
        check_arguments(owner, common_checks(owner, num_classes, None, final_activation,
                                             data_format) + [
            ("dropout", dropout, 0.0 <= dropout < 1.0, "a float in [0, 1)"),
            ("weight_decay", weight_decay, weight_decay >= 0, "a float >= 0 (an L2 penalty "
                                                             "on every kernel)")])
        self.num_classes, self.final_activation = num_classes, final_activation
        self.data_format, self.dropout = data_format, dropout
        #: the SDK's weight_decay: an L2 penalty on every convolution kernel
        self.weight_decay = weight_decay

    def stem(self, ops: Ops, x: Any, filters: int) -> Any:
        from keras import layers

        x = ops.conv_layer(filters, 7, 2)(x)
        x = layers.Activation("relu")(ops.norm(x, "batch"))
        return ops.max_pool(3, strides=2, padding="same", data_format=ops.fmt)(x)

    def classify(self, ops: Ops, x: Any) -> Any:
        from keras import layers

        x = ops.global_pool(data_format=ops.fmt)(x)
        if self.dropout:
            x = layers.Dropout(self.dropout)(x)
        x = layers.Dense(self.num_classes, dtype="float32")(x)
        return final_activation(x, self.final_activation)


class _ResNet(_Classifier):
    layers_per_stage: Sequence[int] = ()
    bottleneck = False

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        ops = Ops(len(inputs.shape) - 2, self.data_format, type(self).__name__,
                  l2=self.weight_decay)
        expansion = 4 if self.bottleneck else 1

        def unit(x: Any, n: int, stride: int) -> Any:
            shortcut = x
            if stride != 1 or x.shape[ops.axis] != n * expansion:
                shortcut = ops.norm(ops.conv_layer(n * expansion, 1, stride)(x), "batch")
            if self.bottleneck:
                y = layers.Activation("relu")(ops.norm(ops.conv_layer(n, 1)(x), "batch"))
                y = layers.Activation("relu")(ops.norm(ops.conv_layer(n, 3, stride)(y), "batch"))
                y = ops.norm(ops.conv_layer(n * 4, 1)(y), "batch")
            else:
                y = layers.Activation("relu")(ops.norm(ops.conv_layer(n, 3, stride)(x), "batch"))
                y = ops.norm(ops.conv_layer(n, 3)(y), "batch")
            return layers.Activation("relu")(layers.Add()([shortcut, y]))

        x = self.stem(ops, inputs, 64)
        for stage, count in enumerate(self.layers_per_stage):
            for i in range(count):
                x = unit(x, 64 * 2**stage, 2 if stage and i == 0 else 1)
        return self.classify(ops, x)


class ResNet18(_ResNet):
    """ResNet-18: basic blocks (2, 2, 2, 2). 2D or 3D follows the input."""

    layers_per_stage = (2, 2, 2, 2)


class ResNet34(_ResNet):
    """ResNet-34: basic blocks (3, 4, 6, 3). 2D or 3D follows the input."""

    layers_per_stage = (3, 4, 6, 3)


class ResNet50(_ResNet):
    """ResNet-50: bottleneck blocks (3, 4, 6, 3), expansion 4. 2D or 3D follows the input."""

    layers_per_stage = (3, 4, 6, 3)
    bottleneck = True


class DenseNet121(_Classifier):
    """DenseNet-121: growth rate 32, dense blocks (6, 12, 24, 16), bottleneck width 4,
    transitions halving the channels. 2D or 3D follows the input."""

    growth, blocks, bn_size = 32, (6, 12, 24, 16), 4

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers

        ops = Ops(len(inputs.shape) - 2, self.data_format, "DenseNet121", l2=self.weight_decay)

        def norm_relu(x: Any) -> Any:
            return layers.Activation("relu")(ops.norm(x, "batch"))

        x = self.stem(ops, inputs, 64)
        features = 64
        for b, count in enumerate(self.blocks):
            for _ in range(count):
                y = ops.conv_layer(self.bn_size * self.growth, 1)(norm_relu(x))
                y = ops.conv_layer(self.growth, 3)(norm_relu(y))
                x = layers.Concatenate(axis=ops.axis)([x, y])
                features += self.growth
            if b < len(self.blocks) - 1:
                features //= 2
                x = ops.conv_layer(features, 1)(norm_relu(x))
                x = ops.avg_pool(2, data_format=ops.fmt)(x)
        return self.classify(ops, norm_relu(x))


class Alexnet(_Classifier):
    """AlexNet for 2D or 3D images (Krizhevsky et al. 2012), the SDK's arguments:
    ``num_feat`` lists the five convolution widths and the two hidden dense widths
    (``"96,256,512,1024,1024,3072,4096"``). Convolutions 11x11 stride 4, 5x5, then
    three 3x3, with 3x3 stride-2 max pooling after the first, second and fifth; each
    normalised (batch or group norm with ``use_group_normG`` groups, or none), then
    global average pooling (any input size), the dense layers with ReLU and
    ``dropout_prob`` dropout, and the output layer. ``reg_weight`` is an L2 penalty
    on every kernel. Multiple-instance learning (``mil: true``) is not built: a
    config asking for it is refused in one line.

    >>> Alexnet(2).num_feat
    [96, 256, 512, 1024, 1024, 3072, 4096]
    """

    no_effect_args = {"dtype": "mixed precision is the config's use_amp"}
    refused_args = {"mil": (False, "multiple-instance learning is not built; classify each "
                                   "image and pool the predictions of a case's images")}

    def __init__(self, num_classes: int, num_feat: str | Sequence[int] =
                 "96,256,512,1024,1024,3072,4096",
                 use_batch_norm: bool = False, use_group_norm: bool = True,
                 use_group_normG: int = 8, reg_weight: float = 0.0, dropout_prob: float = 0.5,
                 final_activation: str = "softmax", data_format: str = "channels_first") -> None:
        _Classifier.__init__(self, num_classes, final_activation, data_format, dropout_prob)
        owner = type(self).__name__
        feat = int_list(owner, "num_feat", num_feat, 1, "96,256,512,1024,1024,3072,4096")
        check_arguments(owner, [
            ("num_feat", num_feat, len(feat) == 7, "7 widths: five convolutions, two dense"),
            ("use_group_normG", use_group_normG, use_group_normG >= 1, "an integer >= 1"),
            ("reg_weight", reg_weight, reg_weight >= 0, "a float >= 0")])
        self.num_feat, self.reg_weight = feat, reg_weight
        self.normalization = "batch" if use_batch_norm else \
            "group" if use_group_norm else "none"
        self.use_group_normG = use_group_normG

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        from keras import layers, regularizers

        ops = Ops(len(inputs.shape) - 2, self.data_format, "Alexnet", l2=self.reg_weight,
                  groups=self.use_group_normG)
        x = inputs
        for i, (width, kernel, stride) in enumerate(zip(self.num_feat[:5], (11, 5, 3, 3, 3),
                                                        (4, 1, 1, 1, 1), strict=True)):
            x = ops.conv_layer(width, kernel, stride, bias=self.normalization == "none")(x)
            x = layers.Activation("relu")(ops.norm(x, self.normalization))
            if i in (0, 1, 4):
                x = ops.max_pool(3, strides=2, padding="same", data_format=ops.fmt)(x)
        x = ops.global_pool(data_format=ops.fmt)(x)
        l2 = regularizers.L2(self.reg_weight) if self.reg_weight else None
        for width in self.num_feat[5:]:
            x = layers.Dense(width, activation="relu", kernel_regularizer=l2)(x)
            if self.dropout:
                x = layers.Dropout(self.dropout)(x)
        x = layers.Dense(self.num_classes, dtype="float32")(x)
        return final_activation(x, self.final_activation)
