"""What every segmentation loss does first: one layout, float32, one-hot targets.

``prepare`` moves channels last, casts predictions to float32 (so float16
predictions under mixed precision give a float32 loss), turns a 1-channel label
map into one-hot targets of the prediction's channel count, and drops the
background channel when asked. It checks the seed's sanity conditions with
messages that name the loss and the argument to change.
"""

from __future__ import annotations

from typing import Any


def prepare(owner: str, predictions: Any, targets: Any, data_format: str,
            is_onehot_targets: bool, skip_background: bool = False) -> tuple[Any, Any, list[int]]:
    """``(predictions, onehot_targets, spatial_axes)``, channels last, float32."""
    import tensorflow as tf

    predictions = tf.cast(tf.convert_to_tensor(predictions), tf.float32)
    targets = tf.convert_to_tensor(targets)
    rank = len(predictions.shape)
    if data_format == "channels_first":
        perm = [0, *range(2, rank), 1]
        predictions, targets = tf.transpose(predictions, perm), tf.transpose(targets, perm)
    n_pred = predictions.shape[-1]
    if skip_background and n_pred == 1:
        raise ValueError(f"{owner}: skip_background is true but the prediction has 1 channel; "
                         "set skip_background to false or predict background as channel 0.")
    if is_onehot_targets:
        if targets.shape[-1] != n_pred:
            raise ValueError(f"{owner}: is_onehot_targets is true but targets have "
                             f"{targets.shape[-1]} channels and predictions {n_pred}; give "
                             "one-hot targets or set is_onehot_targets to false.")
        targets = tf.cast(targets, tf.float32)
    else:
        if targets.shape[-1] != 1:
            raise ValueError(f"{owner}: targets have {targets.shape[-1]} channels; a label map "
                             "has 1 (set is_onehot_targets to true for one-hot targets).")
        labels = tf.cast(tf.squeeze(targets, axis=-1), tf.int32)
        targets = tf.one_hot(labels, depth=n_pred, dtype=tf.float32)
    if skip_background:
        predictions, targets = predictions[..., 1:], targets[..., 1:]
    return predictions, targets, list(range(1, rank - 1))
