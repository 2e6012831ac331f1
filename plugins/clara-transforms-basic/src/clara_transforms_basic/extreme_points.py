"""``AddExtremePointsChannel``: the label's extreme points as a Gaussian-heatmap channel."""

from __future__ import annotations

import numpy as np

from clara_core import RandomTransform, TransformContext
from clara_core.arguments import check_arguments
from clara_transforms_basic.channels import _channel_axis


class AddExtremePointsChannel(RandomTransform):
    """Append to ``image_field`` a channel with a Gaussian blob (``sigma`` voxels) at
    each extreme point of the foreground of ``label_field`` (its lowest and highest
    voxel along every spatial axis: the clicks of DEXTR-style annotation), rescaled
    to ``[rescale_min, rescale_max]``. ``permutation`` moves each point by up to that
    many voxels per axis, drawn per case, as a user's click would miss. With
    ``points_channel_field`` the heatmap goes to that field instead of the image.

    >>> from clara_core import MedicalImage
    >>> ctx = TransformContext()
    >>> ctx.set_image("image", MedicalImage(np.zeros((1, 9, 9), "float32"), "CHW"))
    >>> lab = np.zeros((1, 9, 9), "float32"); lab[0, 2:7, 3:6] = 1
    >>> ctx.set_image("label", MedicalImage(lab, "CHW"))
    >>> out = AddExtremePointsChannel("image", "label", sigma=1).transform(ctx)
    >>> heat = out.get_image("image").get_data()[1]
    >>> heat.shape, float(heat.max()), float(heat.min())
    ((9, 9), 1.0, -1.0)
    >>> AddExtremePointsChannel("image", "label").points(lab[0])  # rows, then columns
    [(2, 3), (6, 3), (2, 3), (2, 5)]
    """

    field_args = ("image_field", "label_field")
    output_field_args = ("points_channel_field",)

    def __init__(self, image_field: str, label_field: str, dtype: str = "float32",
                 sigma: float = 3, permutation: int = 0, rescale_min: float = -1.0,
                 rescale_max: float = 1.0, points_channel_field: str | None = None) -> None:
        owner = type(self).__name__
        check_arguments(owner, [
            ("sigma", sigma, sigma > 0, "a float > 0 (voxels)"),
            ("permutation", permutation, permutation >= 0, "an integer >= 0 (voxels)"),
            ("rescale_max", rescale_max, rescale_max > rescale_min, "greater than rescale_min"),
            ("dtype", dtype, _is_dtype(dtype), "a NumPy dtype name such as 'float32'")])
        self.set_probability(1.0)
        self.image_field, self.label_field, self.dtype = image_field, label_field, dtype
        self.sigma, self.permutation = sigma, permutation
        self.rescale_min, self.rescale_max = rescale_min, rescale_max
        self.points_channel_field = points_channel_field

    def points(self, label: np.ndarray) -> list[tuple[int, ...]]:
        """The extreme foreground voxels along each axis, each moved by up to
        ``permutation`` voxels (kept inside the grid)."""
        found = np.argwhere(label > 0)
        if found.size == 0:
            return []
        out = []
        for axis in range(label.ndim):
            for pick in (found[:, axis].argmin(), found[:, axis].argmax()):
                point = found[pick].copy()
                if self.permutation:
                    point += self.R.integers(-self.permutation, self.permutation + 1,
                                             size=label.ndim)
                out.append(tuple(int(v) for v in np.clip(point, 0, np.array(label.shape) - 1)))
        return out

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        from scipy.ndimage import gaussian_filter

        owner = type(self).__name__
        image = transform_ctx.get_image(self.image_field)
        label = transform_ctx.get_image(self.label_field)
        axis = _channel_axis(owner, self.image_field, image)
        spatial = np.delete(np.asarray(image.get_data().shape), axis)
        mask = np.moveaxis(label.get_data(), _channel_axis(owner, self.label_field, label),
                           0).max(axis=0)
        if tuple(mask.shape) != tuple(spatial):
            raise ValueError(f"{owner}: label {self.label_field!r} has spatial shape "
                             f"{mask.shape} but image {self.image_field!r} has "
                             f"{tuple(spatial)}; they must be on the same grid.")
        heat = np.zeros(mask.shape, np.float64)
        for point in self.points(mask):
            heat[point] = 1.0
        heat = gaussian_filter(heat, self.sigma)
        low, high = heat.min(), heat.max()
        heat = (heat - low) / (high - low) if high > low else np.zeros_like(heat)
        heat = heat * (self.rescale_max - self.rescale_min) + self.rescale_min
        channel = np.expand_dims(heat, axis).astype(self.dtype)
        if self.points_channel_field:
            transform_ctx.set_image(self.points_channel_field,
                                    image.new_image(channel, image.get_shape_format()))
        else:
            data = np.concatenate([image.get_data().astype(self.dtype), channel], axis=axis)
            transform_ctx.set_image(self.image_field,
                                    image.new_image(data, image.get_shape_format()))
        return transform_ctx


def _is_dtype(name: str) -> bool:
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True
