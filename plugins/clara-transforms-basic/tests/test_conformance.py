import os
import tempfile

import nibabel as nib
import numpy as np
from clara_transforms_basic.crop import CropByPosNegRatio
from clara_transforms_basic.flip import RandomSpatialFlip
from clara_transforms_basic.intensity import RandomShiftIntensity, ScaleIntensityRange
from clara_transforms_basic.layout import ConvertToChannelsFirst
from clara_transforms_basic.loaders.nifti import LoadNifti

from clara_core import TransformContext
from clara_core.testing import default_sample, parametrize_with_checks


def sample(component):
    if isinstance(component, LoadNifti):
        folder = tempfile.mkdtemp()
        ctx = TransformContext()
        for field in component.fields:
            path = os.path.join(folder, f"{field}.nii.gz")
            nib.save(nib.Nifti1Image(np.arange(60, dtype=np.int16).reshape(3, 4, 5), np.eye(4)),
                     path)
            ctx[field] = path
        return ctx
    return default_sample(component)


COMPONENTS = [
    LoadNifti(["image", "label"]),
    ConvertToChannelsFirst(["image"]),
    ScaleIntensityRange("image", a_min=-1.0, a_max=1.0, clip=True),
    CropByPosNegRatio(size=[8, 8, 8], num_samples=2),
    RandomSpatialFlip(["image", "label"]),
    RandomShiftIntensity(["image"], offset=0.2, probability=0.5),
]


@parametrize_with_checks(COMPONENTS, sample=sample)
def test_conformance(component, check):
    check(component)
