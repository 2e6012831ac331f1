"""``ScaleIntensityRange``: window and rescale intensities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MultiFieldTransformer, TransformContext


class ScaleIntensityRange(MultiFieldTransformer):
    """Map ``[a_min, a_max]`` linearly to ``[b_min, b_max]``, optionally clipping.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.array([[-100.0, 50.0, 300.0]]), "HW"))
    >>> t = ScaleIntensityRange("image", a_min=0, a_max=100, b_min=0.0, b_max=1.0, clip=True)
    >>> t.transform(ctx).get_image("image").get_data().tolist()
    [[0.0, 0.5, 1.0]]
    """

    def __init__(self, fields: str | Sequence[str], a_min: float, a_max: float,
                 b_min: float = 0.0, b_max: float = 1.0, clip: bool = False,
                 dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields)
        if a_max == a_min:
            raise ValueError("Invalid value for argument `a_max` of ScaleIntensityRange: "
                             f"expected a value different from a_min ({a_min}), received "
                             f"{a_max!r}.")
        self.a_min, self.a_max, self.b_min, self.b_max = a_min, a_max, b_min, b_max
        self.clip, self.dtype = clip, dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        scale = (self.b_max - self.b_min) / (self.a_max - self.a_min)
        for field in self.fields:
            img = transform_ctx.get_image(field)
            data = (img.get_data().astype(self.dtype) - self.a_min) * scale + self.b_min
            if self.clip:
                lo, hi = sorted((self.b_min, self.b_max))
                np.clip(data, lo, hi, out=data)
            transform_ctx.set_image(field, img.new_image(data, img.get_shape_format()))
        return transform_ctx


class RandomShiftIntensity(MultiFieldTransformer):
    """With ``probability``, add one offset drawn from ``[-offset, offset]`` to each field.

    >>> from clara_core import MedicalImage
    >>> t = RandomShiftIntensity(["image"], offset=0.5, probability=1.0)
    >>> t.set_random_state(0)
    >>> ctx = TransformContext(); ctx.set_image("image", MedicalImage(np.zeros((1, 2)), "HW"))
    >>> shifted = t.transform(ctx).get_image("image").get_data()
    >>> bool(abs(shifted[0, 0]) <= 0.5 and np.all(shifted == shifted[0, 0]))
    True
    """

    def __init__(self, fields: str | Sequence[str], offset: float = 0.1,
                 probability: float = 0.5) -> None:
        MultiFieldTransformer.__init__(self, fields)
        if not 0.0 <= probability <= 1.0:
            raise ValueError("Invalid value for argument `probability` of RandomShiftIntensity: "
                             f"expected a float in [0, 1], received {probability!r}.")
        self.offset, self.probability = offset, probability

    def is_deterministic(self) -> bool:
        return False

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        if self.R.random() >= self.probability:
            return transform_ctx
        shift = self.R.uniform(-self.offset, self.offset)
        for field in self.fields:
            image = transform_ctx.get_image(field)
            data = image.get_data()
            transform_ctx.set_image(field, image.new_image((data + shift).astype(data.dtype),
                                                           image.get_shape_format()))
        return transform_ctx
