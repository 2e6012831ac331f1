"""Classification losses with the SDK's names: binary and multi-class cross-entropy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core import BuildContext, Loss
from clara_core.arguments import check_argument

EPSILON = 1e-7


class BinaryClassificationLoss(Loss):
    """Binary cross-entropy of sigmoid probabilities ``(N, 1)`` or ``(N,)`` against 0/1 targets.

    >>> round(float(BinaryClassificationLoss().get_loss([[0.5]], [[1.0]])), 4)
    0.6931
    """

    def __init__(self) -> None:
        Loss.__init__(self)

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        p = tf.clip_by_value(tf.reshape(tf.cast(predictions, tf.float32), [-1]), EPSILON,
                             1.0 - EPSILON)
        t = tf.reshape(tf.cast(targets, tf.float32), [-1])
        return -tf.reduce_mean(t * tf.math.log(p) + (1.0 - t) * tf.math.log(1.0 - p))


class MulticlassClassificationLoss(Loss):
    """Cross-entropy of softmax probabilities ``(N, C)`` against class indices or one-hot.

    Targets of shape ``(N,)`` or ``(N, 1)`` are class indices; ``(N, C)`` one-hot.

    >>> round(float(MulticlassClassificationLoss().get_loss([[0.25, 0.75]], [1])), 4)
    0.2877
    """

    def __init__(self) -> None:
        Loss.__init__(self)

    def _terms(self, predictions: Any, targets: Any) -> tuple[Any, Any]:
        import tensorflow as tf

        p = tf.clip_by_value(tf.cast(predictions, tf.float32), EPSILON, 1.0)
        t = tf.convert_to_tensor(targets)
        n = p.shape[-1]
        if len(t.shape) == 1 or (len(t.shape) == 2 and t.shape[-1] == 1 and n != 1):
            t = tf.one_hot(tf.cast(tf.reshape(t, [-1]), tf.int32), n, dtype=tf.float32)
        return -tf.cast(t, tf.float32) * tf.math.log(p), tf.cast(t, tf.float32)

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        terms, _ = self._terms(predictions, targets)
        return tf.reduce_mean(tf.reduce_sum(terms, axis=-1))


class WeightedMulticlassClassificationLoss(MulticlassClassificationLoss):
    """Class-weighted cross-entropy: the weighted mean ``sum w_y l / sum w_y`` of
    ``torch.nn.CrossEntropyLoss(weight=...)``.

    >>> loss = WeightedMulticlassClassificationLoss(weights=[1.0, 3.0])
    >>> round(float(loss.get_loss([[0.5, 0.5], [0.9, 0.1]], [0, 1])), 4)
    1.9002
    """

    sdk_aliases = {"class_weights": "weights"}

    def __init__(self, weights: Sequence[float] | None = None) -> None:
        if weights is not None:  # None: every class weighs 1 (the SDK's default)
            check_argument(type(self).__name__, "weights", weights,
                           len(weights) > 0 and all(w >= 0 for w in weights),
                           "a non-empty list of floats >= 0, one per class")
        self.weights = None if weights is None else [float(w) for w in weights]

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        if self.weights is None:
            return MulticlassClassificationLoss.get_loss(self, predictions, targets, build_ctx)
        terms, t = self._terms(predictions, targets)
        if terms.shape[-1] != len(self.weights):
            raise ValueError(f"{type(self).__name__}: {len(self.weights)} weights "
                             f"for {terms.shape[-1]} classes; give one weight per class.")
        w = tf.constant(self.weights, tf.float32)
        per_case = tf.reduce_sum(terms * w, axis=-1)
        case_weight = tf.reduce_sum(t * w, axis=-1)
        return tf.reduce_sum(per_case) / tf.reduce_sum(case_weight)
