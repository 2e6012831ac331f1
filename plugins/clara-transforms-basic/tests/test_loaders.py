"""Loaders against the files nibabel ships and against each other: data and geometry."""

import os
import tempfile

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from clara_transforms_basic.loaders.nifti import LoadNifti
from clara_transforms_basic.loaders.sitk import LoadImage
from nibabel.testing import data_path

from clara_core import TransformContext
from clara_core.testing import conformance_tests


def load(loader, path):
    return loader.transform(TransformContext({"image": str(path)})).get_image("image")


@pytest.mark.parametrize("name", ["anatomical.nii", "standard.nii.gz",
                                  "reoriented_anat_moved.nii"])
def test_load_image_matches_nibabel_on_shipped_files(name):
    path = os.path.join(data_path, name)
    ours, ref = load(LoadImage(["image"]), path), load(LoadNifti(["image"]), path)
    np.testing.assert_allclose(ours.get_data(), ref.get_data(), rtol=1e-6)
    np.testing.assert_allclose(ours.get_property("spacing"), ref.get_property("spacing"),
                               rtol=1e-5)
    np.testing.assert_allclose(ours.get_property("affine"), nib.load(path).affine, atol=1e-4)


def test_geometry_of_an_oblique_anisotropic_volume(tmp_path):
    rotation = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([0.7, 1.2, 3.0])
    affine[:3, 3] = [10.0, -20.0, 5.0]
    data = np.random.default_rng(0).normal(size=(5, 6, 7)).astype(np.float32)
    path = tmp_path / "oblique.nii.gz"
    nib.save(nib.Nifti1Image(data, affine), path)
    image = load(LoadImage(["image"]), path)
    np.testing.assert_allclose(image.get_data(), data, rtol=1e-6)
    assert image.get_property("spacing") == pytest.approx((0.7, 1.2, 3.0))
    np.testing.assert_allclose(image.get_property("affine"), affine, atol=1e-5)
    # the same volume as MetaImage: the same array and geometry
    mha = tmp_path / "oblique.mha"
    sitk.WriteImage(sitk.ReadImage(str(path)), str(mha))
    again = load(LoadImage(["image"]), mha)
    np.testing.assert_allclose(again.get_data(), data, rtol=1e-6)
    np.testing.assert_allclose(again.get_property("affine"), affine, atol=1e-5)


def test_bad_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="LoadImage: file not found: .*missing.mha"):
        load(LoadImage(["image"]), tmp_path / "missing.mha")
    broken = tmp_path / "broken.nii.gz"
    broken.write_bytes(b"\x1f\x8b\x08 not really gzip")
    with pytest.raises(ValueError, match="LoadImage: SimpleITK cannot read .*broken.nii.gz"):
        load(LoadImage(["image"]), broken)


def mha_sample(loader):
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "x.mha")
    sitk.WriteImage(sitk.GetImageFromArray(np.zeros((4, 5, 6), np.float32)), path)
    return TransformContext({"image": path})


test_conformance = conformance_tests([LoadImage(["image"])], sample=mha_sample)
