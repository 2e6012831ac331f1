"""``clara export`` of a trained MMAR with no other flag: the ONNX file and the
SavedModel take any batch and any spatial size the network divides (checked here at
sizes the model was never trained on); ``--input-shape`` fixes the ONNX sizes on
request; a missing optional package names the extra to install."""

from __future__ import annotations

import sys

import keras
import numpy as np
import pytest
from conftest import run_clara

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")


def keras_model(mmar):
    return keras.models.load_model(mmar / "models" / "model_final.keras", compile=False)


def test_onnx_export_runs_at_new_sizes_and_batches(trained_copy):
    out = run_clara("export", "-m", str(trained_copy), "--format", "onnx")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "any batch, any spatial size (multiples of 4x4x4)" in out.stdout
    session = onnxruntime.InferenceSession(str(trained_copy / "models" / "model.onnx"))
    name = session.get_inputs()[0].name
    model = keras_model(trained_copy)
    rng = np.random.default_rng(3)
    for shape in ((1, 24, 20, 28, 1), (3, 40, 40, 12, 1)):  # never the 16^3 crops
        x = rng.normal(size=shape).astype(np.float32)
        got = session.run(None, {name: x})[0]
        assert got.shape == (*shape[:4], 2)
        np.testing.assert_allclose(got, np.asarray(model(x)), atol=1e-4)


@pytest.mark.slow
def test_saved_model_export_has_free_axes(trained_copy):
    import tensorflow as tf

    out = run_clara("export", "-m", str(trained_copy))
    assert out.returncode == 0, out.stdout + out.stderr
    served = tf.saved_model.load(str(trained_copy / "models" / "saved_model"))
    for shape in ((2, 32, 24, 20, 1), (1, 12, 12, 12, 1)):
        assert tuple(served.serve(tf.zeros(shape)).shape) == (*shape[:4], 2)


def test_input_shape_fixes_the_file_and_refuses_sizes_the_network_cannot_take(trained_copy):
    out = run_clara("export", "-m", str(trained_copy), "--format", "onnx",
                    "--input-shape", "18", "18", "18", "-o", str(trained_copy / "x.onnx"))
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert "--input-shape 18x18x18 does not fit the network" in out.stderr
    assert "divisible by 4x4x4" in out.stderr and "16x16x16 or 20x20x20" in out.stderr
    out = run_clara("export", "-m", str(trained_copy), "--format", "onnx",
                    "--input-shape", "24", "24", "24", "-o", str(trained_copy / "y.onnx"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "fixed to 24x24x24: fixed by --input-shape" in out.stdout
    dims = onnxruntime.InferenceSession(str(trained_copy / "y.onnx")).get_inputs()[0].shape
    assert dims[1:] == [24, 24, 24, 1] and not isinstance(dims[0], int)


def test_a_missing_optional_package_names_the_extra(trained_copy, monkeypatch):
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # as if it were not installed
    out = run_clara("export", "-m", str(trained_copy), "--format", "onnx")
    assert out.returncode == 2, out.stdout + out.stderr
    assert 'pip install "clara-core[onnx]"' in out.stderr and "tf2onnx" in out.stderr
