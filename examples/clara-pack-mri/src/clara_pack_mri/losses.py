"""``LogCoshDice``: ``log(cosh(1 - soft Dice))`` (Jadon 2020)."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Loss


class LogCoshDice(Loss):
    """Log-cosh of the soft Dice loss over the foreground classes, smooth near 0.

    Args:
        data_format: ``channels_first`` or ``channels_last``.
        smooth: added to numerator and denominator.
    """

    def __init__(self, data_format: str = "channels_first", smooth: float = 1e-5) -> None:
        Loss.__init__(self)
        self.data_format, self.smooth = data_format, smooth

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        axis = 1 if self.data_format == "channels_first" else -1
        p = tf.cast(predictions, tf.float32)
        labels = tf.cast(tf.squeeze(tf.convert_to_tensor(targets), axis=axis), tf.int32)
        t = tf.one_hot(labels, depth=p.shape[axis], axis=axis, dtype=tf.float32)
        rank = len(p.shape)
        spatial = list(range(2, rank)) if axis == 1 else list(range(1, rank - 1))
        inter = tf.reduce_sum(p * t, axis=spatial)
        total = tf.reduce_sum(p, axis=spatial) + tf.reduce_sum(t, axis=spatial)
        dice = (2 * inter + self.smooth) / (total + self.smooth)
        dice = dice[:, 1:] if p.shape[axis] > 1 else dice
        return tf.math.log(tf.math.cosh(1.0 - tf.reduce_mean(dice)))
