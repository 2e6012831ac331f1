import numpy as np
import pytest
from clara_models.unet import Unet

from clara_core import BuildContext
from clara_core.testing import parametrize_with_checks


@parametrize_with_checks([Unet(num_classes=3, filters=4, depth=2, data_format="channels_last"),
                          Unet(num_classes=2, filters=4, normalization="instance",
                               data_format="channels_last", residual=True)])
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
