"""Training metrics, computed inside the compiled train step: ``TrainDice``, ``TrainAccuracy``.

They are ``aux_ops`` (the SDK's section for values computed in the train step):
the engine calls ``get_value`` while tracing its step, with that step's
predictions, labels and loss in the ``BuildContext``, and logs the per-epoch mean
under ``tag`` in metrics.jsonl and TensorBoard.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core import AuxOp, BuildContext
from clara_core.arguments import check_arguments, check_data_format


def _channels_last(x: Any, data_format: str) -> Any:
    import tensorflow as tf

    if data_format == "channels_first":
        rank = len(x.shape)
        return tf.transpose(x, [0, *range(2, rank), 1])
    return x


def _classes(predictions: Any, labels: Any, data_format: str) -> tuple[Any, Any, int]:
    """Predicted and true class indices (channels last) and the class count."""
    import tensorflow as tf

    p = _channels_last(tf.convert_to_tensor(predictions), data_format)
    y = _channels_last(tf.convert_to_tensor(labels), data_format)
    n = p.shape[-1]
    predicted = tf.argmax(p, axis=-1, output_type=tf.int32) if n > 1 \
        else tf.cast(p[..., 0] > 0.5, tf.int32)
    true = tf.argmax(y, axis=-1, output_type=tf.int32) if y.shape[-1] > 1 \
        else tf.cast(tf.round(y[..., 0]), tf.int32)
    return predicted, true, max(int(n), 2)


def _channel_masks(predictions: Any, labels: Any, data_format: str) -> tuple[Any, Any]:
    """Multi-label reading (channels last, float 0/1): each prediction channel ``> 0.5``
    on its own (sigmoid outputs), against a label with one channel per class."""
    import tensorflow as tf

    p = _channels_last(tf.convert_to_tensor(predictions), data_format)
    y = _channels_last(tf.convert_to_tensor(labels), data_format)
    if y.shape[-1] != p.shape[-1]:
        raise ValueError(f"is_onehot_targets is true but the labels have {y.shape[-1]} "
                         f"channels and the predictions {p.shape[-1]}: give the label one "
                         "channel per class (e.g. ConvertToMultiChannelBasedOnBratsClasses).")
    return tf.cast(p > 0.5, tf.float32), tf.cast(y > 0.5, tf.float32)


class TrainDice(AuxOp):
    """Hard Dice of the batch (argmax of the predictions against the labels), mean over
    the foreground classes present in prediction or labels; 1 when none is.

    With ``is_onehot_targets`` the labels have one channel per class (one-hot, or
    overlapping multi-label channels such as BraTS's TC/WT/ET) and each prediction
    channel is read on its own at 0.5 (sigmoid outputs), no argmax.

    >>> import numpy as np
    >>> ctx = BuildContext()
    >>> ctx[BuildContext.KEY_PREDICTIONS] = np.eye(2)[[[0, 1, 1, 0]]].astype("float32")
    >>> ctx[BuildContext.KEY_LABEL_INPUT] = np.array([[[0], [1], [0], [0]]], "float32")
    >>> round(float(TrainDice(data_format="channels_last").get_value(ctx)), 4)
    0.6667
    """

    def __init__(self, tag: str = "train_dice", data_format: str = "channels_first",
                 skip_background: bool = True, is_onehot_targets: bool = False) -> None:
        check_data_format(type(self).__name__, data_format)
        AuxOp.__init__(self, tag=tag)
        self.data_format = data_format
        self.skip_background = skip_background
        self.is_onehot_targets = is_onehot_targets

    def per_class(self, build_ctx: BuildContext) -> tuple[Any, Any]:
        """Each (foreground) class's Dice, and whether the class is in prediction or
        label (the Dice of an absent class is 0 here)."""
        import tensorflow as tf

        predictions = build_ctx.must_get(BuildContext.KEY_PREDICTIONS)
        labels = build_ctx.must_get(BuildContext.KEY_LABEL_INPUT)
        if self.is_onehot_targets:
            p, t = _channel_masks(predictions, labels, self.data_format)
        else:
            predicted, true, n = _classes(predictions, labels, self.data_format)
            p = tf.one_hot(predicted, n, dtype=tf.float32)
            t = tf.one_hot(true, n, dtype=tf.float32)
        if self.skip_background and p.shape[-1] > 1:
            p, t = p[..., 1:], t[..., 1:]
        axes = list(range(len(p.shape) - 1))
        inter = tf.reduce_sum(p * t, axis=axes)
        total = tf.reduce_sum(p, axis=axes) + tf.reduce_sum(t, axis=axes)
        present = total > 0
        return tf.where(present, 2.0 * inter / tf.maximum(total, 1.0), 0.0), present

    def get_value(self, build_ctx: BuildContext) -> Any:
        import tensorflow as tf

        dice, present = self.per_class(build_ctx)
        count = tf.reduce_sum(tf.cast(present, tf.float32))
        return tf.where(count > 0, tf.reduce_sum(dice) / tf.maximum(count, 1.0), 1.0)


class TrainAccuracy(AuxOp):
    """Fraction of voxels (segmentation) or cases (classification) whose argmax class
    is the label's.

    >>> import numpy as np
    >>> ctx = BuildContext()
    >>> ctx[BuildContext.KEY_PREDICTIONS] = np.array([[0.9, 0.1], [0.3, 0.7]], "float32")
    >>> ctx[BuildContext.KEY_LABEL_INPUT] = np.array([[0.0], [0.0]], "float32")
    >>> float(TrainAccuracy(data_format="channels_last").get_value(ctx))
    0.5
    """

    def __init__(self, tag: str = "train_accuracy",
                 data_format: str = "channels_first") -> None:
        check_data_format(type(self).__name__, data_format)
        AuxOp.__init__(self, tag=tag)
        self.data_format = data_format

    def get_value(self, build_ctx: BuildContext) -> Any:
        import tensorflow as tf

        predicted, true, _ = _classes(build_ctx.must_get(BuildContext.KEY_PREDICTIONS),
                                      build_ctx.must_get(BuildContext.KEY_LABEL_INPUT),
                                      self.data_format)
        return tf.reduce_mean(tf.cast(tf.equal(predicted, true), tf.float32))


class ComputeAccuracy(TrainAccuracy):
    """The SDK's accuracy aux op: :class:`TrainAccuracy` under ``tag``; with
    ``use_sigmoid`` (multi-label outputs, one sigmoid per label) the fraction of labels
    whose output ``> 0.5`` matches, over cases and labels.

    >>> import numpy as np
    >>> ctx = BuildContext()
    >>> ctx[BuildContext.KEY_PREDICTIONS] = np.array([[0.9, 0.8], [0.3, 0.2]], "float32")
    >>> ctx[BuildContext.KEY_LABEL_INPUT] = np.array([[1.0, 1.0], [1.0, 0.0]], "float32")
    >>> float(ComputeAccuracy("acc", "channels_last", use_sigmoid=True).get_value(ctx))
    0.75
    """

    no_effect_args = {
        "do_summary": "every aux op is written to TensorBoard and metrics.jsonl",
        "do_print": "every aux op is shown in the progress line",
    }

    def __init__(self, tag: str, data_format: str = "channels_first",
                 use_sigmoid: bool = False) -> None:
        TrainAccuracy.__init__(self, tag=tag, data_format=data_format)
        self.use_sigmoid = use_sigmoid

    def get_value(self, build_ctx: BuildContext) -> Any:
        import tensorflow as tf

        if not self.use_sigmoid:
            return TrainAccuracy.get_value(self, build_ctx)
        p, y = _channel_masks(build_ctx.must_get(BuildContext.KEY_PREDICTIONS),
                              build_ctx.must_get(BuildContext.KEY_LABEL_INPUT),
                              self.data_format)
        return tf.reduce_mean(tf.cast(tf.equal(p, y), tf.float32))


class NegLoss(AuxOp):
    """The loss, negated (the SDK's ``NegLoss``: higher is better, so a
    ``ComputeAverage`` metric on its ``tag`` can be a key metric).

    >>> ctx = BuildContext(); ctx[BuildContext.KEY_LOSS_VALUE] = 0.25
    >>> float(NegLoss(tag="negloss").get_value(ctx))
    -0.25
    """

    def __init__(self, tag: str = "negloss") -> None:
        AuxOp.__init__(self, tag=tag)

    def get_value(self, build_ctx: BuildContext) -> Any:
        import tensorflow as tf

        return -tf.cast(build_ctx.must_get(BuildContext.KEY_LOSS_VALUE), tf.float32)


class DiceMaskedOutput(TrainDice):
    """:class:`TrainDice` over the voxels whose label is not ``mask_value`` (the SDK's
    aux op for partially labelled data: voxels marked ``mask_value``, -1 by default,
    are left out of the Dice).

    The SDK's ``tags`` names its values: one tag for the mean Dice over the classes,
    or one per (foreground) class for each class's Dice (1 where a class is in
    neither prediction nor label), e.g. ``["dice_tc", "dice_wt", "dice_et"]``.

    >>> import numpy as np
    >>> ctx = BuildContext()
    >>> ctx[BuildContext.KEY_PREDICTIONS] = np.eye(3)[[[0, 1, 2, 1]]].astype("float32")
    >>> ctx[BuildContext.KEY_LABEL_INPUT] = np.array([[[0], [1], [-1], [2]]], "float32")
    >>> round(float(DiceMaskedOutput(data_format="channels_last").get_value(ctx)), 4)
    0.3333
    >>> op = DiceMaskedOutput(data_format="channels_last", tags=["dice_1", "dice_2"])
    >>> {k: round(float(v), 4) for k, v in op.values(ctx).items()}
    {'dice_1': 0.6667, 'dice_2': 0.0}

    Sigmoid outputs against multi-label channels (BraTS's TC/WT/ET), no argmax:

    >>> ctx[BuildContext.KEY_PREDICTIONS] = np.array([[[0.9, 0.8], [0.2, 0.7]]], "float32")
    >>> ctx[BuildContext.KEY_LABEL_INPUT] = np.array([[[1, 1], [0, 1]]], "float32")
    >>> op = DiceMaskedOutput(data_format="channels_last", skip_background=False,
    ...                       is_onehot_targets=True, tags=["dice_tc", "dice_wt"])
    >>> {k: round(float(v), 4) for k, v in op.values(ctx).items()}
    {'dice_tc': 1.0, 'dice_wt': 1.0}
    """

    def __init__(self, tag: str = "dice_masked", data_format: str = "channels_first",
                 skip_background: bool = True, mask_value: float = -1.0,
                 tags: str | Sequence[str] | None = None,
                 is_onehot_targets: bool = False) -> None:
        names = [tag] if tags is None else [tags] if isinstance(tags, str) else list(tags)
        check_arguments(type(self).__name__, [
            ("tags", tags, bool(names) and all(isinstance(n, str) and n for n in names),
             'a tag or a list of tags, e.g. ["dice_tc"]')])
        TrainDice.__init__(self, tag=names[0], data_format=data_format,
                           skip_background=skip_background, is_onehot_targets=is_onehot_targets)
        self.mask_value, self.tags = mask_value, names

    def output_tags(self) -> list[str]:
        return list(self.tags)

    def _masked(self, build_ctx: BuildContext) -> BuildContext:
        """The context with masked voxels made background in prediction and label:
        they add to no class's Dice."""
        import tensorflow as tf

        labels = tf.convert_to_tensor(build_ctx.must_get(BuildContext.KEY_LABEL_INPUT))
        preds = tf.convert_to_tensor(build_ctx.must_get(BuildContext.KEY_PREDICTIONS))
        axis = 1 if self.data_format == "channels_first" else -1
        keep = tf.reduce_all(tf.not_equal(labels, self.mask_value), axis=axis, keepdims=True)
        keep = tf.cast(keep, preds.dtype)
        channels = preds.shape[axis]
        background = tf.one_hot(0, channels, dtype=preds.dtype) \
            if channels > 1 and not self.is_onehot_targets else tf.zeros([channels], preds.dtype)
        shape = [1] * len(preds.shape)
        shape[axis] = channels
        masked = BuildContext(build_ctx)
        masked[BuildContext.KEY_PREDICTIONS] = \
            preds * keep + tf.reshape(background, shape) * (1 - keep)
        masked[BuildContext.KEY_LABEL_INPUT] = tf.where(keep > 0, labels, tf.zeros_like(labels))
        return masked

    def get_value(self, build_ctx: BuildContext) -> Any:
        return TrainDice.get_value(self, self._masked(build_ctx))

    def values(self, build_ctx: BuildContext) -> dict[str, Any]:
        if len(self.tags) == 1:
            return {self.tag: self.get_value(build_ctx)}
        import tensorflow as tf

        dice, present = self.per_class(self._masked(build_ctx))
        if dice.shape[0] != len(self.tags):
            raise ValueError(f"DiceMaskedOutput: {len(self.tags)} tags for {dice.shape[0]} "
                             f"{'foreground ' if self.skip_background else ''}classes; give "
                             "one tag per class, or one tag for their mean.")
        dice = tf.where(present, dice, 1.0)
        return {tag: dice[i] for i, tag in enumerate(self.tags)}
