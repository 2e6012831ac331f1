"""Every network of the catalog exports to ONNX with free batch and spatial axes
(``clara export --format onnx``, no flag): onnxruntime gives the Keras outputs to 1e-4
at two spatial sizes and two batch sizes; a network with a Dense head after Flatten
keeps its fixed size and says why; ``--input-shape`` fixes the sizes on request."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from clara_models.ahnet import SegAhnet
from clara_models.classification import DenseNet121, ResNet18, ResNet34, ResNet50
from clara_models.dynunet import DynUNet
from clara_models.segresnet import SegResnet
from clara_models.unet import Unet

from clara_core import BuildContext, main_output
from clara_core.errors import ClaraError
from clara_core.workflow.export import export_onnx

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")


def case(component, shape, slow=False):
    """One network built on ``shape`` (channels last); the large ones in the slow tier."""
    return pytest.param(component, shape, id=f"{type(component).__name__}-{len(shape) - 1}d",
                        marks=[pytest.mark.slow] if slow else [])


CATALOG = [
    case(Unet(num_classes=2, filters=4, depth=2, data_format="channels_last"), (16, 16, 16, 1)),
    case(Unet(num_classes=3, filters=4, depth=2, data_format="channels_last"), (32, 32, 1),
         slow=True),
    case(SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
                   data_format="channels_last"), (16, 16, 16, 1), slow=True),
    case(DynUNet(num_classes=2, kernel_size=[3, 3, 3], strides=[1, 2, 2], filters=[4, 8, 16],
                 deep_supervision=True, data_format="channels_last"), (16, 16, 16, 1)),
    case(SegAhnet(num_classes=2, data_format="channels_last"), (32, 32, 32, 1), slow=True),
    case(ResNet18(num_classes=3, data_format="channels_last"), (32, 32, 3), slow=True),
    case(ResNet34(num_classes=2, data_format="channels_last"), (32, 32, 3), slow=True),
    case(ResNet50(num_classes=2, data_format="channels_last"), (32, 32, 3), slow=True),
    case(DenseNet121(num_classes=2, data_format="channels_last"), (32, 32, 3), slow=True),
]


def built(component, shape):
    """The network on a fixed-size input: the crop size of a dynamic_input_shape: false run."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape)
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: False})
    return keras.Model(inputs, main_output(component.build(ctx)))


def export_case(index: int, path: str) -> dict:
    """Export ``CATALOG[index]`` to ``path``: its report and the file's input dims."""
    component, shape = CATALOG[index].values
    report = export_onnx(built(component, shape), path)
    dims = onnxruntime.InferenceSession(path).get_inputs()[0].shape
    return {"max_diff": report.max_diff, "batches": list(report.batches),
            "sizes": [list(s) for s in report.sizes],
            "fixed": [isinstance(d, int) for d in dims]}


@pytest.mark.parametrize("index", [pytest.param(i, id=c.id, marks=c.marks)
                                   for i, c in enumerate(CATALOG)])
def test_onnx_has_free_batch_and_spatial_axes(index, tmp_path):
    # tf2onnx's conversion peaks at gigabytes (12 GiB for SegAhnet) and a process keeps
    # them: each network converts in a process of its own, as clara export does
    out = subprocess.run([sys.executable, __file__, str(index), str(tmp_path / "m.onnx")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["max_diff"] <= 1e-4 and report["batches"] == [1, 2]
    assert len(report["sizes"]) == 2 and report["sizes"][0] != report["sizes"][1]
    shape = CATALOG[index].values[1]
    assert report["fixed"] == [False] * (len(shape)) + [True]


@pytest.mark.slow
def test_a_dense_head_keeps_its_size_and_says_why(tmp_path):
    net = SegResnet(num_classes=2, init_filters=4, blocks_down=(1, 1, 1), blocks_up=(1, 1),
                    use_vae=True, vae_nz=8, data_format="channels_last")
    report = export_onnx(built(net, (16, 16, 16, 1)), str(tmp_path / "vae.onnx"))
    assert report.sizes == ((16, 16, 16),)
    assert "fixed to 16x16x16: the network needs a fixed size" in report.describe()
    session = onnxruntime.InferenceSession(str(tmp_path / "vae.onnx"))
    x = np.zeros((3, 16, 16, 16, 1), np.float32)  # the batch stays free
    assert session.run(None, {session.get_inputs()[0].name: x})[0].shape[0] == 3


def test_input_shape_fixes_the_sizes_on_request_within_the_divisor(tmp_path):
    model = built(CATALOG[0].values[0], (16, 16, 16, 1))
    report = export_onnx(model, str(tmp_path / "fixed.onnx"), (24, 24, 24))
    assert report.sizes == ((24, 24, 24),) and "fixed by --input-shape" in report.describe()
    with pytest.raises(ClaraError, match="--input-shape 18x18x18 does not fit the network: "
                                         "it takes spatial sizes divisible by 4x4x4"):
        export_onnx(model, str(tmp_path / "bad.onnx"), (18, 18, 18))


if __name__ == "__main__":  # one network's export, in its own process
    print(json.dumps(export_case(int(sys.argv[1]), sys.argv[2])))
