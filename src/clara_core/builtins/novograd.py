"""``NovoGrad`` (Ginsburg et al., 2019, "Stochastic Gradient Methods with Layer-wise
Adaptive Moments for Training of Deep Networks"), the SDK's optimizer. Keras has
none, so this is a Keras 3 optimizer written from the paper:

for each layer (variable) ``l`` with gradient ``g``::

    v = ||g||^2                              at the first step
    v = beta_2 * v + (1 - beta_2) * ||g||^2  after
    m = beta_1 * m + (g / (sqrt(v) + epsilon) + weight_decay * w)
    w = w - lr * m

The second moment is one scalar per layer (half Adam's memory); with
``grad_averaging`` the normalised gradient enters ``m`` times ``1 - beta_1``.
"""

from __future__ import annotations

from typing import Any

from clara_core.arguments import check_arguments
from clara_core.components.optimizer import Optimizer


def novograd_class() -> Any:
    """The Keras optimizer class, defined on first use (no Keras import at import time)."""
    import keras
    from keras import ops

    class KerasNovoGrad(keras.optimizers.Optimizer):  # type: ignore[misc]
        def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.95,
                     beta_2: float = 0.98, epsilon: float = 1e-8, weight_decay_l2: float = 0.0,
                     grad_averaging: bool = False, name: str = "novograd", **kwargs: Any) -> None:
            super().__init__(learning_rate=learning_rate, name=name, **kwargs)
            self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
            self.weight_decay_l2, self.grad_averaging = weight_decay_l2, grad_averaging

        def build(self, var_list: Any) -> None:
            if self.built:
                return
            super().build(var_list)
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
            self._norms = [self.add_variable((), name=f"{v.name}_grad_norm", dtype=v.dtype)
                           for v in var_list]

        def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
            index = self._get_variable_index(variable)
            m, v = self._momentums[index], self._norms[index]
            lr = ops.cast(learning_rate, variable.dtype)
            g = ops.cast(gradient, variable.dtype)
            norm = ops.sum(ops.square(g))
            first = ops.equal(self.iterations, 0)
            self.assign(v, ops.where(first, norm, self.beta_2 * v + (1 - self.beta_2) * norm))
            step = g / (ops.sqrt(v) + self.epsilon) + self.weight_decay_l2 * variable
            if self.grad_averaging:
                step = step * (1 - self.beta_1)
            self.assign(m, self.beta_1 * m + step)
            self.assign_sub(variable, lr * m)

        def get_config(self) -> dict[str, Any]:
            config: dict[str, Any] = super().get_config()
            config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                          weight_decay_l2=self.weight_decay_l2,
                          grad_averaging=self.grad_averaging)
            return config

    return KerasNovoGrad


class NovoGrad(Optimizer):
    """NovoGrad: layer-wise normalised gradients with momentum (see the module).

    >>> NovoGrad(beta_1=0.9).get_config()["beta_1"]
    0.9
    """

    sdk_aliases = {"beta1": "beta_1", "beta2": "beta_2"}  # the SDK's TF1 optimizer's names

    def __init__(self, beta_1: float = 0.95, beta_2: float = 0.98, epsilon: float = 1e-8,
                 weight_decay: float = 0.0, grad_averaging: bool = False) -> None:
        check_arguments(type(self).__name__, [
            ("beta_1", beta_1, 0 <= beta_1 < 1, "a float >= 0 and < 1"),
            ("beta_2", beta_2, 0 <= beta_2 < 1, "a float >= 0 and < 1"),
            ("weight_decay", weight_decay, weight_decay >= 0, "a float >= 0"),
        ])
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.weight_decay, self.grad_averaging = weight_decay, grad_averaging

    def get_optimizer(self, learning_rate: Any) -> Any:
        return novograd_class()(learning_rate=learning_rate, beta_1=self.beta_1,
                                beta_2=self.beta_2, epsilon=self.epsilon,
                                weight_decay_l2=self.weight_decay,
                                grad_averaging=self.grad_averaging)
