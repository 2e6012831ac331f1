"""BraTS-style multi-label against MONAI: the TC/WT/ET conversion and the Dice of each
sigmoid channel (no argmax), from the validation metric and from the train-step aux op.

MONAI's ``ConvertToMultiChannelBasedOnBratsClasses`` builds the same three channels from
labels 1, 2, 4. MONAI's ``DiceMetric`` (``include_background=True``, so every channel
counts) on predictions thresholded at 0.5 is the reference; a channel empty in both
prediction and label scores NaN in our metric and 1 in our aux op (``ignore_empty=False``
in MONAI), so both are compared where the channel is present in either.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from clara_metrics.dice import ComputeAverageDice
from clara_metrics.training import DiceMaskedOutput
from clara_transforms_basic.brats import ConvertToMultiChannelBasedOnBratsClasses
from monai.metrics import DiceMetric
from monai.transforms import ConvertToMultiChannelBasedOnBratsClasses as MonaiBrats

from clara_core import BuildContext, MedicalImage, TransformContext


def brats_labels(rng, shape=(20, 18, 14)):
    """Nested tumour regions (2 around 1 around 4) with ragged borders; some cases
    without enhancing tumour (an empty ET channel)."""
    grid = np.indices(shape).astype(float)
    centre = rng.uniform(0.35, 0.65, size=3) * np.array(shape)
    r = np.sqrt(((grid.T - centre) ** 2).sum(-1)).T + rng.normal(scale=0.4, size=shape)
    enhancing = 2.0 if rng.random() < 0.7 else -1.0
    return np.select([r < enhancing, r < 4.0, r < 6.5], [4, 1, 2], 0).astype(np.uint8)


def cases(seed=0, n=6):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        label = brats_labels(rng)
        channels = MonaiBrats()(label).astype(np.float32)
        # sigmoid outputs near the truth, flipped at random voxels
        logits = np.where(channels > 0, 2.0, -2.0) + rng.normal(scale=1.8, size=channels.shape)
        out.append((label, channels, (1 / (1 + np.exp(-logits))).astype(np.float32)))
    return out


def monai_dice(probs, channels):
    metric = DiceMetric(include_background=True, reduction="none", ignore_empty=False)
    pred = torch.from_numpy((probs > 0.5).astype(np.float32))[None]
    return metric(pred, torch.from_numpy(channels)[None])[0].numpy()


def test_brats_conversion_equals_monais():
    for label, channels, _ in cases(1):
        ctx = TransformContext()
        ctx.set_image("label", MedicalImage(label[None], "CDHW"))
        ours = ConvertToMultiChannelBasedOnBratsClasses("label").transform(ctx)
        np.testing.assert_array_equal(ours.get_image("label").get_data(), channels)


def test_metric_dice_per_sigmoid_channel():
    metric = ComputeAverageDice("dice", remove_bg=False, is_one_hot_targets=True)
    for _, channels, probs in cases(2):
        metric.reset()
        ctx = TransformContext()
        ctx.set_image("model", MedicalImage(probs, "CDHW"))
        ctx.set_image("label", MedicalImage(channels, "CDHW"))
        metric.update(ctx)
        ours = metric._per_class[0]
        ref = monai_dice(probs, channels)
        present = [(probs[c] > 0.5).any() or channels[c].any() for c in range(3)]
        np.testing.assert_allclose(ours[present], ref[present], rtol=1e-6)
        assert np.isnan(ours[[not p for p in present]]).all()


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_aux_op_dice_per_sigmoid_channel(layout):
    op = DiceMaskedOutput(data_format=layout, skip_background=False, is_onehot_targets=True,
                          tags=["dice_tc", "dice_wt", "dice_et"])
    for _, channels, probs in cases(3):
        ctx = BuildContext()
        p, y = probs[None], channels[None]
        if layout == "channels_last":
            p, y = np.moveaxis(p, 1, -1), np.moveaxis(y, 1, -1)
        ctx[BuildContext.KEY_PREDICTIONS], ctx[BuildContext.KEY_LABEL_INPUT] = p, y
        values = op.values(ctx)
        ours = np.array([float(values[t]) for t in ("dice_tc", "dice_wt", "dice_et")])
        ref = monai_dice(probs, channels)
        present = [(probs[c] > 0.5).any() or channels[c].any() for c in range(3)]
        np.testing.assert_allclose(ours[present], ref[present], rtol=1e-5)
        assert (ours[[not p for p in present]] == 1.0).all()
