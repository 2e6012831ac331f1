import numpy as np
import pytest
from clara_models.unet import Unet

from clara_core import BuildContext
from clara_core.testing import parametrize_with_checks


@parametrize_with_checks([Unet(num_classes=3, filters=4, depth=2, data_format="channels_last"),
                          Unet(num_classes=2, filters=4, normalization="instance",
                               data_format="channels_last", residual=True),
                          Unet(num_classes=2, nf_enc="4,8", nf_dec="8,8,4",
                               data_format="channels_last")])
def test_conformance(component, check):
    check(component)


@pytest.mark.parametrize("fmt", ["channels_first", "channels_last"])
@pytest.mark.parametrize("shape", [(16, 16), (16, 16, 16)])
def test_output_shape(fmt, shape):
    import keras

    channels_first = fmt == "channels_first"
    in_shape = (1, *shape) if channels_first else (*shape, 1)
    inputs = keras.Input(in_shape)
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: True})
    net = Unet(num_classes=3, filters=4, depth=2, data_format=fmt, normalization="group")
    model = keras.Model(inputs, net.build(ctx))
    out = model(np.zeros((2, *in_shape), "float32"))
    assert tuple(out.shape) == ((2, 3, *shape) if channels_first else (2, *shape, 3))
    np.testing.assert_allclose(np.sum(out, axis=1 if channels_first else -1), 1.0, rtol=1e-5)


def test_bad_argument():
    with pytest.raises(ValueError, match="Invalid value for argument `normalization` of Unet"):
        Unet(num_classes=2, normalization="layer")


def test_sdk_filters_build_the_levels_they_name():
    import keras

    inputs = keras.Input((1, 16, 16, 16))
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: True})
    net = Unet(num_classes=2, nf_enc="8,16,16,16", nf_dec="16,16,16,16,16,8,8")
    model = keras.Model(inputs, net.build(ctx))
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv3D)]
    strided = [c.filters for c in convs if c.strides == (2, 2, 2)]
    assert strided == [8, 16, 16, 16]  # one stride-2 level per nf_enc entry
    assert tuple(model(np.zeros((1, 1, 16, 16, 16), "float32")).shape) == (1, 2, 16, 16, 16)
    with pytest.raises(ValueError, match="nf_enc"):
        Unet(num_classes=2, nf_enc="8,x", nf_dec="8,8")
    with pytest.raises(ValueError, match="give both"):
        Unet(num_classes=2, nf_enc="8,16")


def test_channels_last_twin_computes_what_the_channels_first_model_does():
    import keras

    from clara_core.workflow.compute_layout import build_channels_last, channels_last_twin

    net = Unet(num_classes=3, filters=4, depth=2, normalization="group")
    inputs = keras.Input((1, 16, 16, 16))
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: True})
    first = keras.Model(inputs, net.build(ctx))
    twin = channels_last_twin(net)
    assert twin.data_format == "channels_last"
    last = keras.Model(inputs, build_channels_last(twin, inputs, ctx))
    last.set_weights(first.get_weights())  # the same arrays fit: kernels ignore the format
    x = np.random.default_rng(0).normal(size=(2, 1, 16, 16, 16)).astype("float32")
    np.testing.assert_allclose(last(x), first(x), atol=1e-5)
