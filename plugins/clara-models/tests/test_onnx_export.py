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


def case(component, shape, slow=False):
    """One network at one input size; the large 2D classifiers run in the slow tier."""
    return pytest.param(component, shape, id=f"{type(component).__name__}-{len(shape) - 1}d",
                        marks=[pytest.mark.slow] if slow else [])


CATALOG = [
    case(Unet(num_classes=2, filters=4, depth=2, data_format="channels_last"), (16, 16, 16, 1)),
    case(Unet(num_classes=3, filters=4, depth=2, data_format="channels_last"), (32, 32, 1)),
    case(SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
                   data_format="channels_last"), (16, 16, 16, 1)),
    case(DynUNet(num_classes=2, kernel_size=[3, 3, 3], strides=[1, 2, 2], filters=[4, 8, 16],
                 deep_supervision=True, data_format="channels_last"), (16, 16, 16, 1)),
    case(ResNet18(num_classes=3, data_format="channels_last"), (32, 32, 3)),
    case(ResNet34(num_classes=2, data_format="channels_last"), (32, 32, 3), slow=True),
    case(ResNet50(num_classes=2, data_format="channels_last"), (32, 32, 3), slow=True),
    case(DenseNet121(num_classes=2, data_format="channels_last"), (32, 32, 3), slow=True),
]


@pytest.mark.parametrize(("component", "shape"), CATALOG)
def test_onnx_round_trip(component, shape, tmp_path):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((None,) * (len(shape) - 1) + shape[-1:])
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: False})
    model = keras.Model(inputs, main_output(component.build(ctx)))
    diff = export_onnx(model, str(tmp_path / "model.onnx"), shape[:-1])
    assert diff <= 1e-4
    assert (tmp_path / "model.onnx").stat().st_size > 0
