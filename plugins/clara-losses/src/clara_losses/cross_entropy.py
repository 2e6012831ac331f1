"""``CrossEntropy`` and ``Focal``: voxel-wise losses on predicted probabilities."""

from __future__ import annotations

from typing import Any

from clara_core import BuildContext, Loss
from clara_core.arguments import check_arguments, check_data_format
from clara_losses._targets import prepare

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1] before the log


class CrossEntropy(Loss):
    """Mean over voxels (and batch) of ``-sum_c t_c log p_c``.

    Predictions are softmax probabilities; targets a label map or one-hot.
    Equals ``torch.nn.CrossEntropyLoss`` on the logits (see docs/losses.md). With
    ``sigmoid``, each channel is a probability of its own (sigmoid outputs of
    overlapping classes, e.g. regions) against its one-hot target channel: the mean
    over voxels and channels of ``-(t log p + (1 - t) log(1 - p))``, as
    ``torch.nn.BCELoss``.

    >>> import numpy as np
    >>> pred = np.full((1, 2, 2, 2), 0.5, "float32"); label = np.zeros((1, 1, 2, 2), "float32")
    >>> round(float(CrossEntropy().get_loss(pred, label)), 4)  # log 2
    0.6931
    >>> pred = np.array([[[0.9]], [[0.2]]], "float32")[None]  # (1, 2, 1, 1), two channels
    >>> target = np.array([[[1.0]], [[0.0]]], "float32")[None]
    >>> round(float(CrossEntropy(sigmoid=True, is_onehot_targets=True).get_loss(pred, target)), 4)
    0.1643
    """

    def __init__(self, data_format: str = "channels_first",
                 is_onehot_targets: bool = False, skip_background: bool = False,
                 sigmoid: bool = False) -> None:
        Loss.__init__(self)
        check_data_format(type(self).__name__, data_format)
        check_arguments(type(self).__name__, [
            ("sigmoid", sigmoid, not sigmoid or is_onehot_targets,
             "false unless is_onehot_targets is true (a sigmoid channel's target is its "
             "own channel of the label)")])
        self.data_format = data_format
        self.is_onehot_targets = is_onehot_targets
        self.skip_background = skip_background
        self.sigmoid = sigmoid

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        p, t, _ = prepare("CrossEntropy", predictions, targets, self.data_format,
                          self.is_onehot_targets)
        if self.sigmoid:
            p = tf.clip_by_value(p, EPSILON, 1.0 - EPSILON)
            return tf.reduce_mean(-(t * tf.math.log(p) + (1.0 - t) * tf.math.log(1.0 - p)))
        log_p = tf.math.log(tf.clip_by_value(p, EPSILON, 1.0))
        if self.skip_background:  # the background class adds no term (SDK semantics)
            t, log_p = t[..., 1:], log_p[..., 1:]
        return tf.reduce_mean(-tf.reduce_sum(t * log_p, axis=-1))


class Focal(Loss):
    """Focal loss (Lin et al. 2017): mean over voxels of ``-sum_c a_c t_c (1-p_c)^gamma log p_c``.

    ``alpha`` (optional) weighs background ``1 - alpha`` and every other class
    ``alpha``, as MONAI's softmax focal loss does; ``skip_background`` leaves the
    background term out of the sum (the probabilities stay those of the full
    softmax; MONAI instead drops the background logit before its softmax).
    ``gamma=0`` without ``alpha`` is the cross-entropy. MONAI averages over
    channels as well, so its value is this one divided by the number of channels
    summed (see docs/losses.md).

    >>> import numpy as np
    >>> pred = np.full((1, 2, 2, 2), 0.5, "float32"); label = np.zeros((1, 1, 2, 2), "float32")
    >>> round(float(Focal(gamma=2.0).get_loss(pred, label)), 4)  # 0.25 * log 2
    0.1733
    """

    def __init__(self, data_format: str = "channels_first", gamma: float = 2.0,
                 alpha: float | None = None, skip_background: bool = False,
                 is_onehot_targets: bool = False) -> None:
        Loss.__init__(self)
        check_data_format(type(self).__name__, data_format)
        check_arguments(type(self).__name__, [
            ("gamma", gamma, gamma >= 0, "a float >= 0"),
            ("alpha", alpha, alpha is None or 0 <= alpha <= 1, "null or a float in [0, 1]"),
        ])
        self.data_format = data_format
        self.gamma = gamma
        self.alpha = alpha
        self.skip_background = skip_background
        self.is_onehot_targets = is_onehot_targets

    def get_loss(self, predictions: Any, targets: Any,
                 build_ctx: BuildContext | None = None) -> Any:
        import tensorflow as tf

        p, t, _ = prepare("Focal", predictions, targets, self.data_format,
                          self.is_onehot_targets)
        if self.skip_background and p.shape[-1] == 1:
            raise ValueError(f"{type(self).__name__}: skip_background is true but the prediction has 1 channel; "
                             "set skip_background to false or predict background as channel 0.")
        p = tf.clip_by_value(p, EPSILON, 1.0)
        terms = -t * tf.pow(1.0 - p, self.gamma) * tf.math.log(p)
        if self.alpha is not None:
            n = terms.shape[-1]
            weights = tf.constant([1.0 - self.alpha] + [self.alpha] * (n - 1), tf.float32)
            terms = terms * weights
        if self.skip_background:
            terms = terms[..., 1:]
        return tf.reduce_mean(tf.reduce_sum(terms, axis=-1))
