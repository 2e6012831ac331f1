"""``BuildContext``: what the engine has built so far, handed to each component."""

from __future__ import annotations

from typing import Any, ClassVar


class BuildContext(dict[str, Any]):
    """A dict of built objects, keyed by the seed's ``KEY_*`` names.

    Components are built in the seed's order (training data pipeline, validation
    data pipeline, placeholders, model, loss, optimizer, metrics); each sees what
    was built before it and nothing after.

    >>> ctx = BuildContext()
    >>> ctx[BuildContext.KEY_IS_TRAIN] = True
    >>> ctx.must_get(BuildContext.KEY_IS_TRAIN)
    True
    >>> ctx.must_get(BuildContext.KEY_MODEL_INPUT)
    Traceback (most recent call last):
    ...
    KeyError: "BuildContext has no 'model_input' yet (built so far: is_train). Components are built in the order: train data pipeline, validation data pipeline, placeholders, model, loss, optimizer, metrics; a component can only use what was built before it."
    """

    KEY_TRAIN_DATA_PIPELINE: ClassVar[str] = "train_data_pipeline"
    KEY_VALID_DATA_PIPELINE: ClassVar[str] = "valid_data_pipeline"
    KEY_DATA_PROP: ClassVar[str] = "data_property"
    KEY_MODEL_INPUT: ClassVar[str] = "model_input"
    KEY_LABEL_INPUT: ClassVar[str] = "label_input"
    KEY_LEARNING_RATE: ClassVar[str] = "learning_rate"
    KEY_IS_TRAIN: ClassVar[str] = "is_train"
    KEY_MODEL: ClassVar[str] = "model"
    KEY_PREDICTIONS: ClassVar[str] = "predictions"
    KEY_LOSS: ClassVar[str] = "loss"
    KEY_OPTIMIZER: ClassVar[str] = "optimizer"
    KEY_STRATEGY: ClassVar[str] = "strategy"
    #: the MMAR folder: relative paths in a config resolve against it
    KEY_MMAR_ROOT: ClassVar[str] = "mmar_root"
    #: inside a train step (aux ops): the step's loss value; KEY_PREDICTIONS and
    #: KEY_LABEL_INPUT then hold that step's predictions and labels
    KEY_LOSS_VALUE: ClassVar[str] = "loss_value"

    def must_get(self, key: str) -> Any:
        """The object built under ``key``; a clear KeyError when it is not built yet."""
        try:
            return self[key]
        except KeyError:
            built = ", ".join(self) or "nothing"
            raise KeyError(
                f"BuildContext has no {key!r} yet (built so far: {built}). Components are built "
                "in the order: train data pipeline, validation data pipeline, placeholders, "
                "model, loss, optimizer, metrics; a component can only use what was built "
                "before it."
            ) from None
