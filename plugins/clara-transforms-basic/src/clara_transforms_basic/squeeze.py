"""``SqueezeSpatialAxis``: a one-slice volume (a 2D slice stored as an ``H x W x 1``
NIfTI or a one-file DICOM series) as the 2D image it is, and ``unsqueezed`` to put
the axis back on a result."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import ImageProperty, MedicalImage, MultiFieldTransformer, TransformContext
from clara_core.arguments import check_argument


class SqueezeSpatialAxis(MultiFieldTransformer):
    """Drop spatial ``axis`` (0, 1 or 2) of 3D images one voxel thick along it, so a 2D
    network takes them: ``DHW`` becomes ``HW``, ``DHWC`` ``HWC``, ``CDHW`` ``CHW``.
    The affine's columns are reordered so its first two follow the kept axes (as a 2D
    NIfTI's), the spacing keeps theirs, and the axis is recorded (``squeezed_axis``)
    so writers put it back: segmentations have the input's shape and affine. A 2D
    image passes as it is. ``clara plan`` uses it for a dataset whose every case is
    one slice thick.

    >>> grid = {"spacing": (5.0, 0.7, 0.8), "affine": np.diag([5.0, 0.7, 0.8, 1.0])}
    >>> ctx = TransformContext({"image": MedicalImage(np.zeros((1, 4, 5)), "DHW", grid)})
    >>> out = SqueezeSpatialAxis("image", axis=0).transform(ctx).get_image("image")
    >>> out.get_data().shape, str(out.get_shape_format()), out.get_property("spacing")
    ((4, 5), 'HW', (0.7, 0.8))
    >>> back = unsqueezed(out)
    >>> back.get_data().shape, str(back.get_shape_format()), back.get_property("spacing")
    ((1, 4, 5), 'DHW', (5.0, 0.7, 0.8))
    """

    def __init__(self, fields: str | Sequence[str], axis: int = 2) -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        check_argument(type(self).__name__, "axis", axis,
                       isinstance(axis, int) and not isinstance(axis, bool) and -3 <= axis < 3,
                       "a spatial axis: 0, 1 or 2 (-1 for the last)")
        self.axis = axis

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        axis = self.axis % 3
        for field in self.fields:
            image = transform_ctx.get_image(field)
            fmt, data = image.get_shape_format(), image.get_data()
            if fmt.get_number_of_spatial_dims() == 2:
                continue  # a 2D image (a 2D NIfTI, a picture) is what the squeeze makes
            position = fmt.get_spatial_axes()[axis]
            if data.shape[position] != 1:
                raise ValueError(
                    f"{type(self).__name__}: field {field!r} "
                    f"({image.get_property(ImageProperty.FILENAME, 'no file name')}) has "
                    f"{data.shape[position]} voxels along axis {axis} (shape {data.shape}); "
                    "this MMAR's network takes 2D slices, stored one voxel thick along "
                    "that axis. Give it such slices, or segment volumes with a 3D MMAR.")
            kept = [a for a in range(3) if a != axis]
            out = image.new_image(np.squeeze(data, axis=position),
                                  str(fmt).replace("DHW", "HW"))
            affine = image.get_property(ImageProperty.AFFINE)
            if affine is not None:
                moved = np.array(affine, dtype=float)
                moved[:, :3] = np.asarray(affine, float)[:, [*kept, axis]]
                out.set_property(ImageProperty.AFFINE, moved)
            spacing = image.get_property(ImageProperty.SPACING)
            if spacing is not None and len(spacing) == 3:
                out.set_property(ImageProperty.SPACING, tuple(float(spacing[a]) for a in kept))
            out.set_property(ImageProperty.SQUEEZED_AXIS, axis)
            transform_ctx.set_image(field, out)
        return transform_ctx


def unsqueezed(image: MedicalImage) -> MedicalImage:
    """``image`` with the spatial axis that :class:`SqueezeSpatialAxis` dropped put back
    (its affine column and spacing too); any other image as it is."""
    axis = image.get_property(ImageProperty.SQUEEZED_AXIS)
    fmt = image.get_shape_format()
    if axis is None or fmt.get_number_of_spatial_dims() != 2:
        return image
    position = fmt.get_spatial_axes()[0] + int(axis)
    out = image.new_image(np.expand_dims(image.get_data(), position),
                          str(fmt).replace("HW", "DHW"))
    order = [a for a in range(3) if a != axis] + [int(axis)]
    affine = image.get_property(ImageProperty.AFFINE)
    if affine is not None:
        back = np.array(affine, dtype=float)
        back[:, order] = np.asarray(affine, float)[:, :3]
        out.set_property(ImageProperty.AFFINE, back)
        out.set_property(ImageProperty.SPACING, tuple(
            float(s) for s in np.linalg.norm(back[:3, :3], axis=0)))
    out.set_property(ImageProperty.SQUEEZED_AXIS, None)
    return out
