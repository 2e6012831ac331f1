"""``FileLoader``: the part every loader shares: a dtype argument, and a field's file
name in, a MedicalImage out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import MedicalImage, MultiFieldTransformer, TransformContext


class FileLoader(MultiFieldTransformer):
    """Replace each field's file name by ``self.load(file_name)``; subclasses load."""

    is_loader = True

    def __init__(self, fields: str | Sequence[str], dtype: str = "float32") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        try:
            self._dtype = np.dtype(dtype)
        except TypeError:
            raise ValueError(f"Invalid value for argument `dtype` of {type(self).__name__}: "
                             "expected a NumPy dtype name such as 'float32', received "
                             f"{dtype!r}.") from None
        self.dtype = dtype

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            name = transform_ctx[field]
            if isinstance(name, bytes):
                name = name.decode("utf-8")
            transform_ctx.set_image(field, self.load(name))
        return transform_ctx

    def load(self, file_name: str) -> MedicalImage:
        raise NotImplementedError(f"{type(self).__name__} does not implement load().")
