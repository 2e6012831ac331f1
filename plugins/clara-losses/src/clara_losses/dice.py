"""``Dice``: the seed's soft Dice loss with all its options."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Loss
from clara_core.arguments import check_arguments, check_data_format
from clara_losses._targets import prepare


class Dice(Loss):
    """One minus the mean soft Dice (or Jaccard) over batch and channels.

    Args (as in the seed):
        data_format: ``channels_first`` (default) or ``channels_last``.
        skip_background: drop the first channel before averaging.
        squared_pred: square targets and predictions in the denominator.
        jaccard: soft IoU instead of Dice, the seed's way: ``(2I + top_smooth) /
            (T + P - I + smooth)``, which is twice the IoU (MONAI's ``jaccard``
            doubles the denominator instead; see docs/losses.md).
        smooth: added to the denominator.
        top_smooth: added to the numerator.
        is_onehot_targets: targets are one-hot already (else a 1-channel label map).

    Predictions are probabilities (the model's final activation). float16
    predictions are computed in float32, so the loss is finite under mixed precision.

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 4, 4), "float32"); pred[:, 1] = 1.0
    >>> target = np.ones((1, 1, 4, 4), "float32")
    >>> round(float(Dice().get_loss(pred, target)), 4)  # empty background scores 0
    0.5
    >>> round(float(Dice(skip_background=True).get_loss(pred, target)), 4)
    0.0
    """

    def __init__(self, data_format: str = "channels_first", skip_background: bool = False,
                 squared_pred: bool = False, jaccard: bool = False, smooth: float = 1e-5,
                 top_smooth: float = 0.0, is_onehot_targets: bool = False) -> None:
        Loss.__init__(self)
        check_data_format(type(self).__name__, data_format)
        check_arguments(type(self).__name__, [
            ("smooth", smooth, smooth >= 0, "a float >= 0"),
            ("top_smooth", top_smooth, top_smooth >= 0, "a float >= 0"),
        ])
        self.data_format = data_format
        self.skip_background = skip_background
        self.squared_pred = squared_pred
        self.jaccard = jaccard
        self.smooth = smooth
        self.top_smooth = top_smooth
        self.is_onehot_targets = is_onehot_targets

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        predictions, targets, axes = prepare("Dice", predictions, targets, self.data_format,
                                             self.is_onehot_targets, self.skip_background)
        intersection = tf.reduce_sum(targets * predictions, axis=axes)
        if self.squared_pred:
            targets, predictions = tf.square(targets), tf.square(predictions)
        denominator = tf.reduce_sum(targets, axis=axes) + tf.reduce_sum(predictions, axis=axes)
        if self.jaccard:
            denominator -= intersection
        f = (2.0 * intersection + self.top_smooth) / (denominator + self.smooth)
        return 1.0 - tf.reduce_mean(f)
