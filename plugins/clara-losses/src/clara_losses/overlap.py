"""``Tversky`` and ``GeneralizedDice``: overlap losses for imbalanced classes."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Loss
from clara_core.arguments import check_arguments, check_data_format
from clara_losses._targets import prepare


class Tversky(Loss):
    """One minus the mean Tversky index (Salehi et al. 2017) over batch and channels.

    ``TI = (TP + top_smooth) / (TP + alpha FP + beta FN + smooth)``; alpha = beta
    = 0.5 is Dice. Same definition and defaults as MONAI's ``TverskyLoss``.

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 4), "float32"); pred[:, 1] = 1.0
    >>> label = np.ones((1, 1, 4), "float32")
    >>> round(float(Tversky(skip_background=True).get_loss(pred, label)), 4)
    0.0
    """

    def __init__(self, data_format: str = "channels_first", alpha: float = 0.5,
                 beta: float = 0.5, skip_background: bool = False, smooth: float = 1e-5,
                 top_smooth: float = 1e-5, is_onehot_targets: bool = False) -> None:
        Loss.__init__(self)
        check_data_format(type(self).__name__, data_format)
        check_arguments(type(self).__name__, [
            ("alpha", alpha, alpha >= 0, "a float >= 0"),
            ("beta", beta, beta >= 0, "a float >= 0"),
            ("smooth", smooth, smooth >= 0, "a float >= 0"),
            ("top_smooth", top_smooth, top_smooth >= 0, "a float >= 0"),
        ])
        self.data_format = data_format
        self.alpha, self.beta = alpha, beta
        self.skip_background = skip_background
        self.smooth, self.top_smooth = smooth, top_smooth
        self.is_onehot_targets = is_onehot_targets

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        p, t, axes = prepare("Tversky", predictions, targets, self.data_format,
                             self.is_onehot_targets, self.skip_background)
        tp = tf.reduce_sum(p * t, axis=axes)
        fp = tf.reduce_sum(p * (1.0 - t), axis=axes)
        fn = tf.reduce_sum((1.0 - p) * t, axis=axes)
        index = (tp + self.top_smooth) / (tp + self.alpha * fp + self.beta * fn + self.smooth)
        return 1.0 - tf.reduce_mean(index)


class GeneralizedDice(Loss):
    """Generalised Dice loss (Sudre et al. 2017), averaged over the batch.

    Class weights ``w_c = 1 / (sum t_c)^2`` (``w_type="square"``), ``1 / sum t_c``
    (``"simple"``) or 1 (``"uniform"``). A class absent from a case would get an
    infinite weight; it gets the largest finite weight of that case instead, as
    in MONAI's ``GeneralizedDiceLoss``, so gradients stay finite.

    >>> import numpy as np
    >>> pred = np.zeros((1, 2, 4), "float32"); pred[:, 1] = 1.0
    >>> label = np.ones((1, 1, 4), "float32")
    >>> round(float(GeneralizedDice().get_loss(pred, label)), 4)
    0.0
    """

    W_TYPES = ("square", "simple", "uniform")

    def __init__(self, data_format: str = "channels_first", w_type: str = "square",
                 skip_background: bool = False, smooth: float = 1e-5, top_smooth: float = 1e-5,
                 is_onehot_targets: bool = False) -> None:
        Loss.__init__(self)
        check_data_format(type(self).__name__, data_format)
        check_arguments(type(self).__name__, [
            ("w_type", w_type, w_type in self.W_TYPES, "'square', 'simple' or 'uniform'"),
            ("smooth", smooth, smooth >= 0, "a float >= 0"),
            ("top_smooth", top_smooth, top_smooth >= 0, "a float >= 0"),
        ])
        self.data_format = data_format
        self.w_type = w_type
        self.skip_background = skip_background
        self.smooth, self.top_smooth = smooth, top_smooth
        self.is_onehot_targets = is_onehot_targets

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        p, t, axes = prepare("GeneralizedDice", predictions, targets, self.data_format,
                             self.is_onehot_targets, self.skip_background)
        intersection = tf.reduce_sum(p * t, axis=axes)  # (batch, classes)
        volume = tf.reduce_sum(t, axis=axes)
        denominator = volume + tf.reduce_sum(p, axis=axes)
        if self.w_type == "uniform":
            weights = tf.ones_like(volume)
        else:
            power = 2.0 if self.w_type == "square" else 1.0
            present = volume > 0
            raw = tf.where(present, 1.0 / tf.pow(tf.where(present, volume, 1.0), power), 0.0)
            largest = tf.reduce_max(raw, axis=-1, keepdims=True)
            weights = tf.where(present, raw, largest)
        numerator = 2.0 * tf.reduce_sum(weights * intersection, axis=-1) + self.top_smooth
        denominator = tf.reduce_sum(weights * denominator, axis=-1) + self.smooth
        return 1.0 - tf.reduce_mean(numerator / denominator)
