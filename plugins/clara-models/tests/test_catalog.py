"""The model catalog: conformance kit, shapes in 2D/3D and both formats, parameter counts.

Parameter counts for default arguments are pinned against the published reference
implementations, counted there: torchvision for the classification networks
(2D, 3 channels, 1000 classes) and MONAI for SegResNet and DynUNet.
"""

import keras
import numpy as np
import pytest
from clara_models.ahnet import SegAhnet
from clara_models.classification import Alexnet, DenseNet121, ResNet18, ResNet34, ResNet50
from clara_models.dynunet import DynUNet
from clara_models.segresnet import SegResnet
from clara_models.unet import Unet

from clara_core import BuildContext
from clara_core.testing import parametrize_with_checks


def build(component, input_shape):
    inputs = keras.Input(input_shape)
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: True})
    return keras.Model(inputs, component.build(ctx))


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@parametrize_with_checks([
    # channels_last: TensorFlow's CPU kernels are channels-last (channels_first is
    # emulated, slowly); check_model_output_shape builds both formats of each anyway
    SegResnet(num_classes=3, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
              data_format="channels_last"),
    SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1), blocks_up=(1,),
              data_format="channels_last", normalization="batch"),
    SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
              data_format="channels_last", use_vae=True, vae_nz=16, vae_estimate_std=True),
    DynUNet(num_classes=2, kernel_size=[3, 3, 3], strides=[1, 2, 2], filters=[4, 8, 16],
            data_format="channels_last"),
    DynUNet(num_classes=3, kernel_size=[3, [3, 3, 1], 3], strides=[1, [2, 2, 1], 2],
            filters=[4, 8, 16], deep_supervision=True, data_format="channels_last"),
])
def test_segmentation_conformance(component, check):
    check(component)


def ahnet_volumes(model):
    """In-plane divisible by 32, the slice axis (z, last) by 8."""
    x = np.random.default_rng(0).normal(size=(1, 32, 32, 8, 1)).astype(np.float32)
    return np.moveaxis(x, -1, 1) if model.data_format == "channels_first" else x


@pytest.mark.slow
@parametrize_with_checks([SegAhnet(num_classes=2, if_use_psp=True, data_format="channels_last")],
                         sample=ahnet_volumes)
def test_ahnet_conformance(component, check):
    check(component)


def test_ahnet_2d_and_plane():
    x2 = np.zeros((1, 64, 32, 1), "float32")
    assert build(SegAhnet(3, n_spatial_dim=2, data_format="channels_last"),
                 x2.shape[1:])(x2).shape == (1, 64, 32, 3)
    # plane "x": the first spatial axis is the slice axis, halved 3 times, not 5
    x3 = np.zeros((1, 8, 32, 32, 1), "float32")
    assert build(SegAhnet(2, plane="x", data_format="channels_last"),
                 x3.shape[1:])(x3).shape == (1, 8, 32, 32, 2)
    with pytest.raises(ValueError, match="n_spatial_dim"):
        build(SegAhnet(2, data_format="channels_last"), x2.shape[1:])


def small_images(model):
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
    return np.moveaxis(x, -1, 1) if model.data_format == "channels_first" else x


@parametrize_with_checks([ResNet18(num_classes=3, data_format="channels_last"),
                          Alexnet(num_classes=2, num_feat="8,16,16,16,8,32,32",
                                  data_format="channels_last", reg_weight=1e-4,
                                  dropout_prob=0.0)],  # dropout makes 10 steps noisy
                         sample=small_images)
def test_classification_conformance(component, check):
    check(component)


@pytest.mark.slow
@parametrize_with_checks([DenseNet121(num_classes=2, data_format="channels_last")],
                         sample=small_images)
def test_densenet_conformance(component, check):
    check(component)


@pytest.mark.parametrize("cls", [ResNet18, DenseNet121])
def test_the_sdks_weight_decay_is_an_l2_penalty_on_every_kernel(cls):
    plain = build(cls(num_classes=2, data_format="channels_last"), (32, 32, 1))
    decayed = build(cls(num_classes=2, data_format="channels_last", weight_decay=1e-4),
                    (32, 32, 1))
    convs = [w for w in decayed.weights if "kernel" in w.path and len(w.shape) == 4]
    assert not plain.losses and len(decayed.losses) == len(convs) > 10


@pytest.mark.parametrize("cls, published", [(ResNet18, 11_689_512), (ResNet34, 21_797_672),
                                             (ResNet50, 25_557_032), (DenseNet121, 7_978_856)])
def test_classification_parameter_counts_equal_torchvision(cls, published):
    model = build(cls(num_classes=1000, data_format="channels_last"), (None, None, 3))
    assert trainable(model) == published


@pytest.mark.parametrize("component, published", [
    (SegResnet(num_classes=2), 1_176_186),   # monai.networks.nets.SegResNet(3, 8, 1, 2)
    (DynUNet(num_classes=2), 16_543_650),    # MONAI DynUNet, kernels 3, strides 1,2,2,2,2
    (Unet(num_classes=2), 1_401_282),        # ours; documented in the docstring
], ids=["SegResnet", "DynUNet", "Unet"])
def test_segmentation_parameter_counts(component, published):
    assert trainable(build(component, (1, None, None, None))) == published


@pytest.mark.parametrize("cls, fmt", [(ResNet18, "channels_first"), (ResNet50, "channels_last"),
                                      (DenseNet121, "channels_last")])
def test_classification_3d(cls, fmt):
    shape = (2, 32, 32, 32) if fmt == "channels_first" else (32, 32, 32, 2)
    model = build(cls(num_classes=4, data_format=fmt), shape)
    out = model(np.zeros((1, *shape), np.float32))
    assert tuple(out.shape) == (1, 4)
    np.testing.assert_allclose(np.sum(out), 1.0, rtol=1e-5)


@pytest.mark.parametrize("net", [
    SegResnet(num_classes=3, init_filters=4, data_format="channels_last"),
    DynUNet(num_classes=3, kernel_size=[3, 3, 3], strides=[1, 2, 2], filters=[4, 8, 16],
            data_format="channels_last")], ids=["SegResnet", "DynUNet"])
@pytest.mark.parametrize("shape", [(16, 16), (16, 24, 16)])
def test_segmentation_2d_3d_dynamic_shape(net, shape):
    model = build(net, (*([None] * len(shape)), 1))  # dynamic input shape
    out = model(np.zeros((1, *shape, 1), np.float32))
    assert tuple(out.shape) == (1, *shape, 3)


def test_deep_supervision_outputs_match_the_input_size():
    net = DynUNet(num_classes=2, kernel_size=[3, 3, 3, 3], strides=[1, 2, 2, 2],
                  filters=[4, 8, 16, 32], deep_supervision=True, deep_supr_num=2,
                  data_format="channels_last")
    outs = build(net, (16, 16, 16, 1))(np.zeros((1, 16, 16, 16, 1), np.float32))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 16, 16, 2)] * 3


def test_bad_arguments_say_what_is_expected():
    with pytest.raises(ValueError, match="Invalid value for argument `strides` of DynUNet: "
                                         "expected a list of 3 strides"):
        DynUNet(num_classes=2, kernel_size=[3, 3, 3], strides=[1, 2])
    with pytest.raises(ValueError, match="`blocks_up` of SegResnet: expected a list of 3"):
        SegResnet(num_classes=2, blocks_up=(1, 1))


def test_vae_branch_loss_is_the_models_extra_loss():
    import tensorflow as tf

    net = SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
                    data_format="channels_last", use_vae=True, vae_nz=16)
    assert net.get_loss() == 0  # nothing built yet
    model = build(net, (16, 16, 16, 1))
    x = tf.random.normal((2, 16, 16, 16, 1))
    out = model(x, training=True)
    assert tuple(out.shape) == (2, 16, 16, 16, 2)
    loss = float(net.get_loss())
    assert 0 < loss < 10
    plain = SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
                      data_format="channels_last")
    assert trainable(build(plain, (16, 16, 16, 1))) < trainable(model)


def test_vae_needs_a_fixed_input_shape():
    net = SegResnet(num_classes=2, use_vae=True, data_format="channels_last")
    with pytest.raises(ValueError, match='set "dynamic_input_shape": false'):
        build(net, (None, None, None, 1))


def test_alexnet_takes_the_sdk_switches_and_refuses_mil():
    x = np.zeros((2, 64, 64, 1), "float32")
    for norm in ({"use_batch_norm": True}, {"use_group_norm": False}, {}):
        net = Alexnet(3, num_feat="8,16,16,16,8,32,32", data_format="channels_last", **norm)
        assert build(net, x.shape[1:])(x).shape == (2, 3)
    with pytest.raises(TypeError, match="mil"):  # configs get a one-line refusal instead
        Alexnet(2, mil=True)
