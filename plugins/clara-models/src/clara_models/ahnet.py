"""``SegAhnet``: the anisotropic hybrid network (AH-Net) for 2D and 3D segmentation."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Model
from clara_core.arguments import check_arguments
from clara_models._layers import Ops, common_checks

#: the slice axis a ``plane`` names, among the spatial axes in the SDK's (x, y, z) order
PLANES = {"x": 0, "y": 1, "z": 2}
#: bottleneck blocks per encoder stage and their widths: ResNet-50's
STAGES = ((3, 64), (4, 128), (6, 256), (3, 512))
EXPANSION = 4


class SegAhnet(Model):
    """AH-Net (Liu et al., MICCAI 2018, arXiv:1711.08580): a ResNet-50 encoder whose
    convolutions see only the in-plane axes of anisotropic volumes, and a decoder of
    full 3D convolutions that learns the context across slices.

    Encoder: a 7x7 stride-2 stem, a 3x3 stride-2 max pool and four stages of
    bottleneck blocks (3, 4, 6 and 3 blocks, 256 to 2048 channels), with 3x3x1
    kernels that leave the slice axis (``plane``) alone; stages 2-4 also halve the
    slice axis by pooling. Decoder: from the deepest stage up, each level upsamples
    (2 in-plane, 2 across slices), adds a 1x1 projection of the encoder's output at
    that level and runs two 3x3x3 convolutions; then two 2x upsamplings return to
    the input grid. ``if_use_psp`` adds a pyramid-pooling module (in-plane average
    pools of 2, 4 and 8, each to one channel, upsampled back and concatenated) before
    the head. With ``n_spatial_dim=2`` every kernel is 2D and there is no slice axis.

    Input sizes: in-plane divisible by 32, the slice axis by 8 (3D).
    ``get_loss()`` is 0: AH-Net has no model-specific loss term.

    ``pretrain_weight_name`` named the ImageNet ResNet-50 weights the SDK copied into
    its TF1 graph: they are not mapped onto this encoder, so the argument is accepted
    with a notice and the encoder starts from random weights (fine-tune from a clara
    run with ``MMAR_CKPT``).

    >>> net = SegAhnet(num_classes=3, if_use_psp=True, plane="z")
    >>> net.n_spatial_dim, net.plane
    (3, 'z')
    """

    no_effect_args = {"pretrain_weight_name": "pretrained 2D ResNet-50 weights are not "
                                              "mapped onto this encoder; it starts from "
                                              "random weights"}

    def __init__(self, num_classes: int, if_use_psp: bool = False,
                 plane: str = "z",
                 final_activation: str = "softmax", n_spatial_dim: int = 3,
                 data_format: str = "channels_first") -> None:
        Model.__init__(self)
        owner = type(self).__name__
        check_arguments(owner, common_checks(owner, num_classes, None, final_activation,
                                             data_format) + [
            ("plane", plane, plane in PLANES, "one of 'x', 'y', 'z' (the slice axis)"),
            ("n_spatial_dim", n_spatial_dim, n_spatial_dim in (2, 3), "2 or 3"),
        ])
        self.num_classes, self.if_use_psp = num_classes, if_use_psp
        self.plane = plane
        self.final_activation, self.n_spatial_dim = final_activation, n_spatial_dim
        self.data_format = data_format

    def get_loss(self) -> Any:
        return 0

    def get_predictions(self, inputs: Any, is_training: Any, build_ctx: BuildContext) -> Any:
        dims = len(inputs.shape) - 2
        if dims != self.n_spatial_dim:
            raise ValueError(f"SegAhnet: n_spatial_dim is {self.n_spatial_dim} but the input "
                             f"has {dims} spatial axes; set n_spatial_dim to {dims}.")
        return _Builder(Ops(dims, self.data_format, "SegAhnet"), self.plane).network(
            inputs, self.num_classes, self.final_activation, self.if_use_psp)


class _Builder:
    """The layers of one AH-Net, with the anisotropic kernel shapes of its ``plane``."""

    def __init__(self, ops: Ops, plane: str) -> None:
        self.ops = ops
        self.slice_axis = PLANES[plane] if ops.dims == 3 else None

    def _shape(self, in_plane: int, across: int) -> tuple[int, ...]:
        """A kernel, stride or pool size: ``in_plane`` on the in-plane axes, ``across``
        on the slice axis."""
        return tuple(across if a == self.slice_axis else in_plane for a in range(self.ops.dims))

    def _conv_bn(self, x: Any, filters: int, kernel: Any, strides: Any = 1,
                 relu: bool = True) -> Any:
        from keras import layers

        x = self.ops.conv_layer(filters, kernel, strides=strides)(x)
        x = self.ops.norm(x, "batch")
        return layers.Activation("relu")(x) if relu else x

    def _bottleneck(self, x: Any, width: int, stride: int) -> Any:
        from keras import layers

        out = width * EXPANSION
        shortcut = x
        if stride != 1 or x.shape[self.ops.axis] != out:
            shortcut = self._conv_bn(x, out, 1, self._shape(stride, 1), relu=False)
        y = self._conv_bn(x, width, 1)
        y = self._conv_bn(y, width, self._shape(3, 1), self._shape(stride, 1))
        y = self._conv_bn(y, out, 1, relu=False)
        return layers.Activation("relu")(layers.Add()([y, shortcut]))

    def network(self, inputs: Any, num_classes: int, activation: str, psp: bool) -> Any:
        from keras import layers

        ops = self.ops
        x = self._conv_bn(inputs, 64, self._shape(7, 1), self._shape(2, 1))
        x = ops.max_pool(self._shape(3, 1), self._shape(2, 1), padding="same",
                         data_format=ops.fmt)(x)
        skips = []
        for stage, (blocks, width) in enumerate(STAGES):
            for b in range(blocks):
                x = self._bottleneck(x, width, 2 if (stage and not b) else 1)
            if stage and self.slice_axis is not None:  # halve the slice axis too
                x = ops.max_pool(self._shape(1, 2), data_format=ops.fmt)(x)
            skips.append(x)
        for skip in reversed(skips[:-1]):
            n = skip.shape[ops.axis]
            x = ops.upsample(self._shape(2, 2 if self.slice_axis is not None else 1),
                             data_format=ops.fmt)(self._conv_bn(x, n, 1))
            x = layers.Add()([x, self._conv_bn(skip, n, 1, relu=False)])
            x = self._conv_bn(self._conv_bn(x, n // 4, 3), n // 4, 3)
        x = self._conv_bn(x, 64, 3)
        if psp:
            x = self._pyramid(x)
        x = ops.upsample(self._shape(2, 1), data_format=ops.fmt)(x)
        x = self._conv_bn(x, 32, 3)
        x = ops.upsample(self._shape(2, 1), data_format=ops.fmt)(x)
        x = self._conv_bn(x, 32, 3)
        return ops.head(x, num_classes, activation)

    def _pyramid(self, x: Any) -> Any:
        from keras import layers

        ops = self.ops
        branches = [x]
        for size in (2, 4, 8):
            pooled = ops.avg_pool(self._shape(size, 1), data_format=ops.fmt)(x)
            branches.append(ops.upsample(self._shape(size, 1), data_format=ops.fmt)(
                self._conv_bn(pooled, 1, 1)))
        return layers.Concatenate(axis=ops.axis)(branches)


__all__ = ["SegAhnet"]
