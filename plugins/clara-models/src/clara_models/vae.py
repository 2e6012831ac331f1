"""The two Keras layers of SegResnet's variational auto-encoder branch.

``GaussianSample`` draws ``z = mean + sigma * eps`` and computes the KL-style
regulariser; ``VAELoss`` measures the reconstruction against the input and hands
the segmentation through unchanged, holding the branch's loss for
``SegResnet.get_loss()`` (the seed's model-specific extra loss). Both are
registered Keras serializables: a ``.keras`` file of a VAE model reloads where
``clara_models`` is importable; the exported SavedModel needs nothing.
"""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="clara_models")
class GaussianSample(keras.layers.Layer):
    """``[mean]`` or ``[mean, sigma]`` -> ``[z, regulariser]`` (MONAI's SegResNetVAE terms)."""

    def __init__(self, default_std: float = 0.3, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_std, self.seed = default_std, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Any, training: Any = None) -> Any:
        ops = keras.ops
        mean = ops.cast(inputs[0], "float32")
        eps = keras.random.normal(ops.shape(mean), seed=self.seed_generator)
        if len(inputs) > 1:
            sigma = ops.cast(inputs[1], "float32")
            reg = 0.5 * ops.mean(mean**2 + sigma**2 - ops.log(1e-8 + sigma**2) - 1.0)
        else:
            sigma = self.default_std
            reg = ops.mean(mean**2)
        return [mean + sigma * eps, ops.broadcast_to(reg, (1,))]

    def compute_output_spec(self, inputs: Any, training: Any = None) -> Any:
        return [keras.KerasTensor(inputs[0].shape, "float32"), keras.KerasTensor((1,), "float32")]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "default_std": self.default_std, "seed": self.seed}


@keras.saving.register_keras_serializable(package="clara_models")
class VAELoss(keras.layers.Layer):
    """``[segmentation, image, reconstruction, regulariser]`` -> segmentation; keeps
    ``weight * (mean squared reconstruction error + regulariser)`` in ``loss_value``."""

    def __init__(self, weight: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.weight = weight
        object.__setattr__(self, "loss_value", 0.0)

    def call(self, inputs: Any) -> Any:
        ops = keras.ops
        segmentation, image, reconstruction, reg = inputs
        mse = ops.mean((ops.cast(image, "float32") - ops.cast(reconstruction, "float32")) ** 2)
        object.__setattr__(self, "loss_value", self.weight * (mse + ops.mean(reg)))
        return segmentation

    def compute_output_spec(self, inputs: Any) -> Any:
        return keras.KerasTensor(inputs[0].shape, inputs[0].dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight": self.weight}
