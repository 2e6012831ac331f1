"""``Orientation``: reorder and flip axes so the array follows an anatomical axis code."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_core import ImageProperty, MultiFieldTransformer, TransformContext


class Orientation(MultiFieldTransformer):
    """Reorient 3D images so array axes run along ``axcodes`` (``"RAS"``: axis 0 towards
    the patient's right, 1 anterior, 2 superior), from the affine the loader recorded:
    nibabel's orientation arithmetic, axis permutations and flips, no interpolation.

    >>> import nibabel as nib
    >>> from clara_core import MedicalImage
    >>> lps = np.diag([-2.0, -2.0, 3.0, 1.0])
    >>> img = MedicalImage(np.arange(24.0).reshape(1, 2, 3, 4), "CDHW", {"affine": lps})
    >>> ctx = TransformContext(); ctx.set_image("image", img)
    >>> out = Orientation("image", axcodes="RAS").transform(ctx).get_image("image")
    >>> nib.aff2axcodes(out.get_property("affine")), out.get_data()[0, 0, 0, 0]
    (('R', 'A', 'S'), np.float64(20.0))
    """

    def __init__(self, fields: str | Sequence[str], axcodes: str = "RAS") -> None:
        MultiFieldTransformer.__init__(self, fields=fields)
        codes = str(axcodes).upper()
        pairs = sorted({"L": 0, "R": 0, "A": 1, "P": 1, "S": 2, "I": 2}.get(c, -1) for c in codes)
        if pairs != [0, 1, 2]:
            raise ValueError(f"Invalid value for argument `axcodes` of {type(self).__name__}: expected 3 "
                             f"letters of L/R, A/P, S/I such as 'RAS', received {axcodes!r}.")
        self.axcodes = axcodes
        self._codes = codes

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        from nibabel import orientations as nio

        target = nio.axcodes2ornt(tuple(self._codes))
        for field in self.fields:
            image = transform_ctx.get_image(field)
            fmt = image.get_shape_format()
            affine = image.get_property(ImageProperty.AFFINE)
            if affine is None or fmt.get_number_of_spatial_dims() != 3:
                raise ValueError(f"{type(self).__name__}: field {field!r} ({fmt}, "
                                 f"{image.get_property('filename', 'no file name')}) needs 3 "
                                 "spatial axes and an 'affine' property: load it with "
                                 "LoadNifti or LoadImage.")
            affine = np.asarray(affine, float)
            ornt = nio.ornt_transform(nio.io_orientation(affine), target)
            spatial = fmt.get_spatial_axes()
            data = np.moveaxis(image.get_data(), spatial, [0, 1, 2])
            shape = data.shape[:3]
            data = np.moveaxis(nio.apply_orientation(data, ornt), [0, 1, 2], spatial)
            out = image.new_image(data, fmt)
            new_affine = affine @ nio.inv_ornt_aff(ornt, shape)
            out.set_property(ImageProperty.AFFINE, new_affine)
            out.set_property(ImageProperty.SPACING, tuple(
                float(s) for s in np.linalg.norm(new_affine[:3, :3], axis=0)))
            transform_ctx.set_image(field, out)
        return transform_ctx
