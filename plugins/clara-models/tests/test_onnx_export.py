"""Every network of the catalog exports to ONNX at a fixed input size, and
onnxruntime gives the Keras outputs to 1e-4 (``clara export --format onnx``)."""

import keras
import pytest
from clara_models.classification import DenseNet121, ResNet18, ResNet34, ResNet50
from clara_models.dynunet import DynUNet
from clara_models.segresnet import SegResnet
from clara_models.unet import Unet

from clara_core import BuildContext, main_output
from clara_core.workflow.export import export_onnx

pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")

CATALOG = [
    (Unet(num_classes=2, filters=4, depth=2, data_format="channels_last"), (16, 16, 16, 1)),
    (Unet(num_classes=3, filters=4, depth=2, data_format="channels_last"), (32, 32, 1)),
    (SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
               data_format="channels_last"), (16, 16, 16, 1)),
    (DynUNet(num_classes=2, kernel_size=[3, 3, 3], strides=[1, 2, 2], filters=[4, 8, 16],
             deep_supervision=True, data_format="channels_last"), (16, 16, 16, 1)),
    (ResNet18(num_classes=3, data_format="channels_last"), (32, 32, 3)),
    (ResNet34(num_classes=2, data_format="channels_last"), (32, 32, 3)),
    (ResNet50(num_classes=2, data_format="channels_last"), (32, 32, 3)),
    (DenseNet121(num_classes=2, data_format="channels_last"), (32, 32, 3)),
]


@pytest.mark.parametrize(("component", "shape"), CATALOG,
                         ids=[f"{type(c).__name__}-{len(s) - 1}d" for c, s in CATALOG])
def test_onnx_round_trip(component, shape, tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None,) * (len(shape) - 1) + shape[-1:])
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: False})
    model = keras.Model(inputs, main_output(component.build(ctx)))
    diff = export_onnx(model, str(tmp_path / "model.onnx"), shape[:-1])
    assert diff <= 1e-4
    assert (tmp_path / "model.onnx").stat().st_size > 0
