"""``CropByPosNegRatio``: random fixed-size crops centred on foreground or background."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Sequence

import numpy as np

from clara_core import (
    MedicalImage,
    MultiFieldTransformer,
    RandomTransform,
    TransformContext,
)
from clara_core.arguments import check_argument, check_sizes
from clara_transforms_basic.geometry import about_center
from clara_transforms_basic.lazy import LazyImage, lazy

log = logging.getLogger("clara")


class CropByPosNegRatio(MultiFieldTransformer, RandomTransform):
    """Crop ``size`` patches around random voxels, foreground with ratio ``pos/(pos+neg)``.

    Foreground is ``label_field > 0``. Crops near a border are shifted inside the
    image; images smaller than ``size`` are zero-padded (centred). A case without
    foreground gets background crops only, with a warning naming its label file.
    With ``num_samples > 1`` the crops of one case are stacked on a batch axis
    (``NCDHW``) and the pipeline splits them into separate samples ("batched by
    transforms").

    >>> from clara_core import MedicalImage
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

    sdk_aliases = {"batch_size": "num_samples"}  # the SDK's name for the crops per case

    def __init__(self, size: Sequence[int], image_field: str = "image",
                 label_field: str = "label", pos: float = 1.0, neg: float = 1.0,
                 num_samples: int = 1, fields: str | Sequence[str] | None = None) -> None:
        # the fields cropped: a field or a list (the SDK's form), the label always with them
        names = [fields] if isinstance(fields, str) else list(fields or [image_field])
        MultiFieldTransformer.__init__(self, [*names, *([label_field] if label_field not in
                                                        names else [])])
        owner = type(self).__name__
        check_sizes(owner, "size", size)
        if pos < 0 or neg < 0 or pos + neg == 0:
            raise ValueError(f"Invalid value for arguments `pos`/`neg` of {owner}: "
                             f"expected numbers >= 0, not both 0, received {pos!r}/{neg!r}.")
        check_argument(owner, "num_samples", num_samples, num_samples >= 1, "an integer >= 1")
        self.size, self.image_field, self.label_field = list(size), image_field, label_field
        self.pos, self.neg, self.num_samples = pos, neg, num_samples
        self._fg_cache: dict[int, np.ndarray] = {}

    def _foreground(self, label: np.ndarray, name: str = "a case") -> np.ndarray:
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
            if not found.size and self.pos > 0:
                log.warning("%s: the label of %s has no foreground, so its positive crops "
                            "are taken at random background positions", type(self).__name__,
                            name)
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

    def _centers(self, label: np.ndarray, name: str) -> list[np.ndarray]:
        shape = tuple(label.shape[-len(self.size):])
        fg = self._foreground(label, name)
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
            raise ValueError(f"{type(self).__name__}: size {self.size} has {len(self.size)} axes "
                             f"but field {self.label_field!r} is {fmt} "
                             f"({label.get_property('filename', 'no file name')}).")
        centers = self._centers(label.get_data(),
                                str(label.get_property("filename", "a case")))
        dims = np.array(label.spatial_shape())
        size = np.array(self.size)
        starts = [np.where(dims >= size, np.clip(c - size // 2, 0, np.maximum(dims - size, 0)),
                           -((size - dims) // 2)) for c in centers]
        self._prepare(len(starts))
        for field in self.fields:
            crops = self._crops(transform_ctx.get_image(field), field, starts)
            transform_ctx.set_image(field, crops)
        return transform_ctx

    def _prepare(self, crops: int) -> None:
        """Draw what the crops of this case share across fields (nothing here)."""

    def _crops(self, image: MedicalImage, field: str, starts: list[np.ndarray]) -> LazyImage:
        """The crops of ``field`` at ``starts``: lazy (a spatial transform after the crop
        resamples from the whole volume), stacked on a batch axis when there are several."""
        return lazy(image).crop(starts, self.size, order=0 if field == self.label_field
                                else None)


class FastCropByPosNegRatio(CropByPosNegRatio):
    """The SDK's fast variant of :class:`CropByPosNegRatio`; here both are the fast one
    (foreground indices kept per cached case, background drawn by rejection), so this
    name is kept for configs that use it, with the SDK's ``batch_size`` for the number
    of crops per case and its ``fields`` for the image field(s) cropped with
    ``label_field``. ``batches_to_gen_at_once`` is accepted without effect: crops are
    made per case, in the pipeline's worker threads, as training needs them.

    >>> t = FastCropByPosNegRatio(size=[8, 8, 8], fields="image", batch_size=4)
    >>> t.num_samples, t.fields
    (4, ['image', 'label'])
    """

    sdk_aliases: dict[str, str] = {}  # batch_size is this class's own argument
    no_effect_args = {"batches_to_gen_at_once": "crops are made per case, in the "
                                                "pipeline's worker threads, as needed"}

    def __init__(self, size: Sequence[int], image_field: str = "image",
                 label_field: str = "label", pos: float = 1.0, neg: float = 1.0,
                 batch_size: int = 1, fields: str | Sequence[str] | None = None) -> None:
        images = [fields] if isinstance(fields, str) else list(fields or [image_field])
        CropByPosNegRatio.__init__(self, size, image_field=images[0],
                                   label_field=label_field, pos=pos, neg=neg,
                                   num_samples=batch_size, fields=images)
        self.batch_size = batch_size


class FastPosNegRatioCropROI(CropByPosNegRatio):
    """The SDK's crop with built-in augmentation: a ``size`` crop centred by the
    pos/neg ratio, optionally rotated (``rotation``: up to ``rotation_degree`` about
    each axis), scaled (``scale``: by 1 +- ``scale_factor``) and elastically deformed
    (``deform``: a smooth random displacement of up to ``deform_magnitude`` voxels),
    composed with the crop and sampled in one pass from the whole volume (linear for
    images, nearest for ``label_field``; the deformation moves the crop's own grid).
    Without those options it is the plain crop. ``fast_crop`` is accepted without
    effect: every crop here is the fast one.

    >>> from clara_core import MedicalImage
    >>> lab = np.zeros((1, 24, 24, 24), "float32"); lab[0, 8:16, 8:16, 8:16] = 1
    >>> ctx = TransformContext(); ctx.set_image("label", MedicalImage(lab, "CDHW"))
    >>> ctx.set_image("image", MedicalImage(lab * 2, "CDHW"))
    >>> t = FastPosNegRatioCropROI(size=[8, 8, 8], pos=1, neg=0, rotation=True, scale=True,
    ...                            deform=True)
    >>> t.set_random_state(0)
    >>> out = t.transform(ctx)
    >>> out.get_image("image").get_data().shape, sorted(np.unique(out.get_image("label").get_data()))
    ((1, 8, 8, 8), [np.float32(0.0), np.float32(1.0)])
    """

    sdk_aliases: dict[str, str] = {}  # batch_size is this class's own argument
    no_effect_args = {"fast_crop": "every crop here is the fast one"}

    def __init__(self, size: Sequence[int], image_field: str = "image",
                 label_field: str = "label", pos: float = 1.0, neg: float = 1.0,
                 deform: bool = False, rotation: bool = False, rotation_degree: float = 20.0,
                 scale: bool = False, scale_factor: float = 0.1, batch_size: int = 1,
                 deform_magnitude: float = 3.0) -> None:
        CropByPosNegRatio.__init__(self, size, image_field=image_field,
                                   label_field=label_field, pos=pos, neg=neg,
                                   num_samples=batch_size)
        check_argument(type(self).__name__, "scale_factor", scale_factor,
                       0 <= scale_factor < 1, "a fraction in [0, 1)")
        self.deform, self.rotation, self.rotation_degree = deform, rotation, rotation_degree
        self.scale, self.scale_factor = scale, scale_factor
        self.batch_size, self.deform_magnitude = batch_size, deform_magnitude
        self._warps: list[tuple[np.ndarray, np.ndarray | None]] = []

    def _prepare(self, crops: int) -> None:
        from scipy import ndimage

        from clara_transforms_basic.geometry import rotation

        n = len(self.size)
        self._warps = []
        for _ in range(crops):
            linear = np.eye(n)
            if self.rotation:
                angles = np.deg2rad(self.R.uniform(-self.rotation_degree, self.rotation_degree,
                                                   1 if n == 2 else 3))
                linear = linear @ rotation(angles.tolist())
            if self.scale:
                linear = linear @ np.diag(1.0 / self.R.uniform(1 - self.scale_factor,
                                                               1 + self.scale_factor, n))
            field = None
            if self.deform:
                noise = self.R.normal(size=(n, *self.size))
                smooth = np.stack([ndimage.gaussian_filter(c, 4.0) for c in noise])
                field = smooth * (self.deform_magnitude / max(float(np.abs(smooth).max()), 1e-8))
            self._warps.append((linear, field))

    def _crops(self, image: MedicalImage, field: str, starts: list[np.ndarray]) -> LazyImage:
        crops = CropByPosNegRatio._crops(self, image, field, starts)
        n = len(self.size)
        maps = np.stack([about_center(self.size, linear) for linear, _ in self._warps])
        if not np.allclose(maps, np.eye(n + 1)):
            crops = crops.compose(maps, self.size)
        fields = [d for _, d in self._warps if d is not None]
        if fields:
            crops = crops.deform(np.stack(fields))
        return crops
