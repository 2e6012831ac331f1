"""Built-in optimizers: thin, typed configs for Keras 3 optimizers.

The learning rate comes from the config's top-level ``learning_rate`` and the
``lr_policy``; the engine assigns it each epoch.
"""

from __future__ import annotations

from typing import Any

from clara_core.arguments import check_argument
from clara_core.components.optimizer import Optimizer


def _positive(owner: str, name: str, value: float, upper: float | None = None) -> None:
    ok = value >= 0 and (upper is None or value < upper)
    bound = f">= 0 and < {upper}" if upper is not None else ">= 0"
    check_argument(owner, name, value, ok, f"a float {bound}")


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with the SDK's defaults (those of TensorFlow 1's
    ``AdamOptimizer``, which it wrapped: ``epsilon`` 1e-8).

    >>> Adam(beta_1=0.8).get_config()["beta_1"]
    0.8
    """

    sdk_aliases = {"beta1": "beta_1", "beta2": "beta_2"}  # tf.compat.v1 AdamOptimizer's

    def __init__(self, beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8,
                 amsgrad: bool = False) -> None:
        _positive("Adam", "beta_1", beta_1, 1.0)
        _positive("Adam", "beta_2", beta_2, 1.0)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def get_optimizer(self, learning_rate: Any) -> Any:
        import keras

        return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=self.beta_1,
                                     beta_2=self.beta_2, epsilon=self.epsilon,
                                     amsgrad=self.amsgrad)


class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

    def __init__(self, weight_decay: float = 0.004, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7) -> None:
        _positive("AdamW", "weight_decay", weight_decay)
        _positive("AdamW", "beta_1", beta_1, 1.0)
        _positive("AdamW", "beta_2", beta_2, 1.0)
        self.weight_decay, self.beta_1, self.beta_2 = weight_decay, beta_1, beta_2
        self.epsilon = epsilon

    def get_optimizer(self, learning_rate: Any) -> Any:
        import keras

        return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=self.weight_decay,
                                      beta_1=self.beta_1, beta_2=self.beta_2,
                                      epsilon=self.epsilon)


class Momentum(Optimizer):
    """SGD with momentum (the SDK's ``Momentum``); ``use_nesterov`` for Nesterov momentum."""

    def __init__(self, momentum: float = 0.9, use_nesterov: bool = False) -> None:
        _positive("Momentum", "momentum", momentum, 1.0)
        self.momentum, self.use_nesterov = momentum, use_nesterov

    def get_optimizer(self, learning_rate: Any) -> Any:
        import keras

        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=self.momentum,
                                    nesterov=self.use_nesterov)


class SGD(Optimizer):
    """Plain stochastic gradient descent (optionally with momentum)."""

    def __init__(self, momentum: float = 0.0, nesterov: bool = False) -> None:
        _positive("SGD", "momentum", momentum, 1.0)
        self.momentum, self.nesterov = momentum, nesterov

    def get_optimizer(self, learning_rate: Any) -> Any:
        import keras

        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=self.momentum,
                                    nesterov=self.nesterov)
