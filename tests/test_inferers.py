"""The compiled sliding window: the old NumPy inferer's results in constant mode, exact
weighted means, one trace for any image size, both data formats, mirroring TTA."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from clara_core.builtins.inferers import TFScanWindowInferer


def numpy_reference(predict, x, roi, overlap):  # the inferer this one replaced
    """Windows every ``roi * (1 - overlap)``, the last flush with the end, averaged with
    equal weights; channels first, images at least ``roi``."""
    def starts(size, r):
        step = max(int(r * (1 - overlap)), 1)
        return [0] if size <= r else sorted(set(range(0, size - r, step)) | {size - r})

    spatial = x.shape[2:]
    out, count = None, np.zeros((1, 1, *spatial))
    for w in itertools.product(*[starts(s, r) for s, r in zip(spatial, roi, strict=True)]):
        box = (slice(None), slice(None), *[slice(a, a + r) for a, r in zip(w, roi, strict=True)])
        pred = np.asarray(predict(x[box]))
        out = np.zeros((1, pred.shape[1], *spatial)) if out is None else out
        out[box] += pred
        count[box] += 1
    return out / count


def conv_model(channels_first: bool, out_channels: int = 3):
    """A fixed, non-trivial 3D network (its output depends on the window's position)."""
    import keras

    keras.utils.set_random_seed(0)
    fmt = "channels_first" if channels_first else "channels_last"
    shape = (2, None, None, None) if channels_first else (None, None, None, 2)
    inputs = keras.Input(shape)
    x = keras.layers.Conv3D(4, 3, padding="same", activation="relu", data_format=fmt)(inputs)
    x = keras.layers.Conv3D(out_channels, 3, padding="same", data_format=fmt)(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("overlap", [0.25, 0.5])
def test_constant_mode_gives_the_old_inferers_results(overlap):
    model = conv_model(channels_first=True)
    x = np.random.default_rng(1).normal(size=(1, 2, 19, 16, 23)).astype(np.float32)
    roi = [8, 8, 8]
    inferer = TFScanWindowInferer(roi_size=roi, overlap=overlap, batch_size=3)
    got = inferer.infer(lambda w: model(w, training=False), x, "channels_first")
    want = numpy_reference(lambda w: model(w, training=False), x, roi, overlap)
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_both_data_formats_give_the_same_prediction():
    first, last = conv_model(True), conv_model(False)
    last.set_weights(first.get_weights())
    x = np.random.default_rng(2).normal(size=(1, 2, 12, 10, 9)).astype(np.float32)
    inferer = TFScanWindowInferer(roi_size=[6, 6, 6], overlap=0.5, mode="gaussian")
    a = inferer.infer(lambda w: first(w, training=False), x, "channels_first")
    b = inferer.infer(lambda w: last(w, training=False), np.moveaxis(x, 1, -1),
                      "channels_last")
    np.testing.assert_allclose(a, np.moveaxis(b, -1, 1), atol=1e-5)


def test_weighted_mean_is_exact_for_a_position_independent_model():
    """Each voxel's prediction is the same in every window, so any weighting gives it."""
    x = np.random.default_rng(3).normal(size=(1, 1, 11, 7, 5)).astype(np.float32)
    for mode in ("constant", "gaussian"):
        inferer = TFScanWindowInferer(roi_size=[4, 4, 4], overlap=0.5, mode=mode)
        np.testing.assert_allclose(inferer.infer(lambda w: 3 * w - 1, x, "channels_first"),
                                   3 * x - 1, atol=1e-5)


def test_an_image_smaller_than_the_window_is_padded_and_cropped_back():
    x = np.ones((1, 1, 3, 5, 2), np.float32)
    got = TFScanWindowInferer(roi_size=[4, 4, 4]).infer(lambda w: w + 1, x, "channels_first")
    assert got.shape == x.shape and np.allclose(got, 2)


def test_one_trace_for_every_image_size():
    model = conv_model(channels_first=False)
    inferer = TFScanWindowInferer(roi_size=[6, 6, 6], overlap=0.5, batch_size=2)

    def predict(w):
        return model(w, training=False)

    rng = np.random.default_rng(4)
    for shape in [(10, 12, 8), (17, 6, 9), (6, 6, 6), (21, 13, 11)]:
        inferer.infer(predict, rng.normal(size=(1, *shape, 2)).astype(np.float32),
                      "channels_last")
    (compiled,) = inferer._compiled.values()
    assert compiled.functions[2].experimental_get_tracing_count() == 1


def test_mirroring_tta_averages_the_flipped_predictions():
    x = np.random.default_rng(5).normal(size=(1, 1, 8, 8, 8)).astype(np.float32)

    def predict(w):  # not mirror-symmetric: weights rise along the first axis
        import tensorflow as tf

        ramp = tf.reshape(tf.range(8, dtype=tf.float32), (1, 1, 8, 1, 1))
        return w * ramp

    plain = TFScanWindowInferer(roi_size=[8, 8, 8]).infer(predict, x, "channels_first")
    tta = TFScanWindowInferer(roi_size=[8, 8, 8], tta_flips=[[0]]).infer(predict, x,
                                                                          "channels_first")
    np.testing.assert_allclose(plain, x * np.arange(8)[:, None, None], atol=1e-5)
    np.testing.assert_allclose(tta, x * 3.5, atol=1e-5)  # (k + (7 - k)) / 2


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="`mode` of TFScanWindowInferer"):
        TFScanWindowInferer(roi_size=[4, 4], mode="average")
    with pytest.raises(ValueError, match="`tta_flips`"):
        TFScanWindowInferer(roi_size=[4, 4], tta_flips=[[2]])
    with pytest.raises(ValueError, match="`roi_size`"):
        TFScanWindowInferer(roi_size=[4, 0])
