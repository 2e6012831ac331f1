"""``TFScanWindowInferer`` against MONAI's ``sliding_window_inference`` on one fixed,
deterministic Keras model (MONAI calls it through a PyTorch wrapper), to 1e-5."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.inferers import sliding_window_inference

from clara_core.builtins.inferers import TFScanWindowInferer


@pytest.fixture(scope="module")
def model():
    """Two convolutions, channels first: the output depends on the window's position."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((1, None, None, None))
    x = keras.layers.Conv3D(4, 3, padding="same", activation="tanh",
                            data_format="channels_first")(inputs)
    x = keras.layers.Conv3D(2, 3, padding="same", data_format="channels_first")(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize(("shape", "roi", "overlap"), [
    ((20, 17, 13), (8, 8, 8), 0.5),
    ((16, 16, 16), (6, 7, 8), 0.25),
    ((5, 18, 9), (8, 8, 8), 0.5),     # smaller than the window on one axis: padded
    ((12, 12, 12), (12, 12, 12), 0.5),
])
@pytest.mark.parametrize("mode", ["gaussian", "constant"])
def test_matches_monai(model, shape, roi, overlap, mode):
    x = np.random.default_rng(0).normal(size=(1, 1, *shape)).astype(np.float32)

    def keras_on_torch(window: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(model(window.numpy(), training=False)))

    want = sliding_window_inference(torch.from_numpy(x), roi, sw_batch_size=3,
                                     predictor=keras_on_torch, overlap=overlap, mode=mode,
                                     sigma_scale=0.125).numpy()
    inferer = TFScanWindowInferer(roi_size=list(roi), overlap=overlap, mode=mode,
                                  sw_batch_size=3)
    got = inferer.infer(lambda w: model(w, training=False), x, "channels_first")
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
