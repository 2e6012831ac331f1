"""``CropByPosNegRatio``: random fixed-size crops centred on foreground or background."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import numpy as np

from clara_core import MedicalImage, MultiFieldTransformer, ShapeFormat, TransformContext


class CropByPosNegRatio(MultiFieldTransformer):
    """Crop ``size`` patches around random voxels, foreground with ratio ``pos/(pos+neg)``.

    Foreground is ``label_field > 0``. Crops near a border are shifted inside the
    image; images smaller than ``size`` are zero-padded. With ``num_samples > 1`` the
    crops of one case are stacked on a batch axis (``NCDHW``) and the pipeline
    splits them into separate samples ("batched by transforms").

    >>> img = MedicalImage(np.random.rand(1, 20, 20, 20).astype("float32"), "CDHW")
    >>> lab = np.zeros((1, 20, 20, 20), "float32"); lab[0, 5:8, 5:8, 5:8] = 1
    >>> ctx = TransformContext(); ctx.set_image("image", img)
    >>> ctx.set_image("label", MedicalImage(lab, "CDHW"))
    >>> t = CropByPosNegRatio(size=[8, 8, 8], pos=1, neg=0, num_samples=3)
    >>> t.set_random_state(0)
    >>> out = t.transform(ctx)
    >>> out.get_image("image").get_data().shape, bool(out.get_image("label").get_data().sum() > 0)
    ((3, 1, 8, 8, 8), True)
    """

    def __init__(self, size: Sequence[int], image_field: str = "image",
                 label_field: str = "label", pos: float = 1.0, neg: float = 1.0,
                 num_samples: int = 1, fields: Sequence[str] | None = None) -> None:
        MultiFieldTransformer.__init__(self, list(fields) if fields else [image_field,
                                                                          label_field])
        if not size or not all(isinstance(s, int) and s > 0 for s in size):
            raise ValueError("Invalid value for argument `size` of CropByPosNegRatio: expected "
                             f"a list of positive integers, received {size!r}.")
        if pos < 0 or neg < 0 or pos + neg == 0:
            raise ValueError("Invalid value for arguments `pos`/`neg` of CropByPosNegRatio: "
                             f"expected numbers >= 0, not both 0, received {pos!r}/{neg!r}.")
        if num_samples < 1:
            raise ValueError("Invalid value for argument `num_samples` of CropByPosNegRatio: "
                             f"expected an integer >= 1, received {num_samples!r}.")
        self.size, self.image_field, self.label_field = list(size), image_field, label_field
        self.pos, self.neg, self.num_samples = pos, neg, num_samples
        self._fg_cache: dict[int, np.ndarray] = {}

    def is_deterministic(self) -> bool:
        return False

    def _foreground(self, label: np.ndarray) -> np.ndarray:
        """Flat spatial indices of foreground voxels, computed once per label array.

        The pipeline hands the same cached label array to this transform every
        epoch, so the indices are kept (per array, dropped with it) instead of
        scanning the whole volume for every crop. Background voxels are found by
        rejection sampling instead: they are usually the majority, and storing their
        indices would cost more memory than the image.
        """
        key = id(label)
        found = self._fg_cache.get(key)
        if found is None:
            spatial = label.shape[-len(self.size):]
            mask = label.reshape(-1, *spatial).max(axis=0) > 0
            found = np.flatnonzero(mask)
            self._fg_cache[key] = found
            weakref.finalize(label, self._fg_cache.pop, key, None)
        return found

    def _background(self, label: np.ndarray, shape: tuple[int, ...]) -> int | None:
        size = int(np.prod(shape))
        lead = (slice(None),) * (label.ndim - len(shape))
        for _ in range(64):
            index = int(self.R.integers(size))
            if not (label[lead + np.unravel_index(index, shape)] > 0).any():
                return index
        flat = label.reshape(-1, size)
        bg = np.flatnonzero((flat > 0).max(axis=0) == 0)  # mostly foreground: scan
        return int(bg[self.R.integers(bg.size)]) if bg.size else None

    def _centers(self, label: np.ndarray) -> list[np.ndarray]:
        shape = tuple(label.shape[-len(self.size):])
        fg = self._foreground(label)
        centers = []
        for _ in range(self.num_samples):
            want_fg = self.R.random() < self.pos / (self.pos + self.neg)
            index = None
            if want_fg and fg.size:
                index = int(fg[self.R.integers(fg.size)])
            if index is None:
                index = self._background(label, shape)
            if index is None:  # all foreground and background wanted
                index = int(fg[self.R.integers(fg.size)]) if fg.size else 0
            centers.append(np.array(np.unravel_index(index, shape)))
        return centers

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        label = transform_ctx.get_image(self.label_field)
        fmt = label.get_shape_format()
        if fmt.get_number_of_spatial_dims() != len(self.size):
            raise ValueError(f"CropByPosNegRatio: size {self.size} has {len(self.size)} axes but "
                             f"field {self.label_field!r} is {fmt} "
                             f"({label.get_property('filename', 'no file name')}).")
        centers = self._centers(label.get_data())
        for field in self.fields:
            img = transform_ctx.get_image(field)
            crops = [self._crop(img, c) for c in centers]
            if self.num_samples == 1:
                out = img.new_image(np.array(crops[0]), img.get_shape_format())
            else:
                batched = ShapeFormat("N" + str(img.get_shape_format()))
                out = img.new_image(np.stack(crops), batched)
            transform_ctx.set_image(field, out)
        return transform_ctx

    def _crop(self, img: MedicalImage, center: np.ndarray) -> np.ndarray:
        data = img.get_data()
        spatial = img.get_shape_format().get_spatial_axes()
        size = np.array(self.size)
        dims = np.array([data.shape[a] for a in spatial])
        if np.any(dims < size):  # pad small images up to the crop size
            pad = [(0, 0)] * data.ndim
            for a, d, s in zip(spatial, dims, size, strict=True):
                pad[a] = ((max(s - d, 0)) // 2, max(s - d, 0) - max(s - d, 0) // 2)
            data = np.pad(data, pad)
            center = center + np.array([p[0] for i, p in enumerate(pad) if i in spatial])
            dims = np.array([data.shape[a] for a in spatial])
        start = np.clip(center - size // 2, 0, dims - size)
        index = [slice(None)] * data.ndim
        for a, s0, s in zip(spatial, start, size, strict=True):
            index[a] = slice(int(s0), int(s0 + s))
        return data[tuple(index)]  # a view: stacking (or the caller) copies once
