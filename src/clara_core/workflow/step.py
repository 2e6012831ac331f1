"""The compiled train step: loss (with deep supervision and the model's extra losses),
gradients, the optimizer's update and the aux ops, reduced over all replicas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from clara_core.components.build_ctx import BuildContext
from clara_core.components.model import main_output


def make_train_step(strategy: Any, model: Any, loss_component: Any, optimizer: Any,
                    model_component: Any, aux_ops: Sequence[Any],
                    ctx: BuildContext) -> Callable[[Any, Any, Any], Any]:
    """A ``tf.function`` ``(images, labels, stop) -> (mean loss, {aux tag: mean value},
    stops)``: ``stop`` (1.0 where this process was asked to stop) is summed over every
    replica of every worker, so all of them stop at the same step."""
    import keras
    import tensorflow as tf

    replicas = strategy.num_replicas_in_sync
    # under float16 the optimizer is a LossScaleOptimizer: scale the loss for its gradients
    scale_loss = optimizer.scale_loss \
        if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else None

    def supervised_loss(outputs: Any, labels: Any) -> Any:
        """The loss of the output, or of every deep-supervision output with weights
        halving per level, normalised to sum to one (nnU-Net)."""
        if not isinstance(outputs, (list, tuple)):
            return tf.cast(loss_component.get_loss(outputs, labels, ctx), tf.float32)
        weights = [0.5**i for i in range(len(outputs))]
        total = tf.add_n([w * tf.cast(loss_component.get_loss(o, labels, ctx), tf.float32)
                          for w, o in zip(weights, outputs, strict=True)])
        return total / sum(weights)

    def step(images: Any, labels: Any, stop: Any) -> Any:
        with tf.GradientTape() as tape:
            outputs = model(images, training=True)
            loss = supervised_loss(outputs, labels)
            loss += tf.cast(model_component.get_loss(), tf.float32)
            if model.losses:
                loss += tf.add_n([tf.cast(v, tf.float32) for v in model.losses])
            scaled = loss / replicas
            if scale_loss is not None:
                scaled = scale_loss(scaled)
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        step_ctx = BuildContext(ctx)
        step_ctx[BuildContext.KEY_PREDICTIONS] = main_output(outputs)
        step_ctx[BuildContext.KEY_LABEL_INPUT] = labels
        step_ctx[BuildContext.KEY_LOSS_VALUE] = loss
        aux = {tag: tf.cast(value, tf.float32)
               for op in aux_ops for tag, value in op.values(step_ctx).items()}
        stops = tf.distribute.get_replica_context().all_reduce(  # on this replica's device
            tf.distribute.ReduceOp.SUM, tf.identity(stop))
        return loss, aux, stops

    @tf.function  # type: ignore[untyped-decorator]
    def distributed_step(images: Any, labels: Any, stop: Any) -> Any:
        per_replica = strategy.run(step, args=(images, labels, stop))
        # leaf by leaf: MultiWorkerMirroredStrategy does not reduce nested structures
        return tf.nest.map_structure(
            lambda v: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None), per_replica)

    return distributed_step  # type: ignore[no-any-return]


__all__ = ["make_train_step"]
