import nibabel as nib
import numpy as np
import pytest
from clara_transforms_basic.crop import CropByPosNegRatio
from clara_transforms_basic.flip import RandomSpatialFlip
from clara_transforms_basic.loaders.nifti import LoadNifti

from clara_core import MedicalImage, TransformContext


def test_load_nifti_records_geometry(tmp_path):
    affine = np.array([[0, 0, 2.0, 10], [0, 3.0, 0, 20], [1.5, 0, 0, 30], [0, 0, 0, 1]])
    path = tmp_path / "a.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((4, 5, 6), np.float32), affine), path)
    img = LoadNifti("image").transform(TransformContext({"image": str(path)})).get_image("image")
    np.testing.assert_allclose(img.get_property("affine"), affine)
    assert img.get_property("filename") == str(path)
    assert img.get_property("original_shape") == (4, 5, 6)


def test_load_nifti_names_the_bad_file(tmp_path):
    bad = tmp_path / "broken.nii.gz"
    bad.write_bytes(b"not a nifti")
    with pytest.raises(ValueError, match="broken.nii.gz"):
        LoadNifti("image").transform(TransformContext({"image": str(bad)}))


def test_crop_ratio_one_always_hits_foreground():
    label = np.zeros((1, 32, 32, 32), np.float32)
    label[0, 3:5, 28:30, 10:12] = 1
    t = CropByPosNegRatio(size=[8, 8, 8], pos=1, neg=0, num_samples=16)
    t.set_random_state(1)
    ctx = TransformContext()
    ctx.set_image("image", MedicalImage(label.copy(), "CDHW"))
    ctx.set_image("label", MedicalImage(label, "CDHW"))
    crops = t.transform(ctx).get_image("label").get_data()
    assert crops.shape == (16, 1, 8, 8, 8)
    assert all(c.sum() > 0 for c in crops)


def test_crop_pads_small_images():
    t = CropByPosNegRatio(size=[8, 8, 8])
    ctx = TransformContext()
    for f in ("image", "label"):
        ctx.set_image(f, MedicalImage(np.ones((1, 4, 9, 4), np.float32), "CDHW"))
    assert t.transform(ctx).get_image("image").get_data().shape == (1, 8, 8, 8)


def test_flip_same_seed_same_result_and_fields_flip_together():
    data = np.random.default_rng(0).random((1, 6, 6, 6)).astype(np.float32)
    outs = []
    for _ in range(2):
        t = RandomSpatialFlip(["image", "label"])
        t.set_random_state(7)
        ctx = TransformContext()
        ctx.set_image("image", MedicalImage(data, "CDHW"))
        ctx.set_image("label", MedicalImage(data.copy(), "CDHW"))
        out = t.transform(ctx)
        np.testing.assert_array_equal(out.get_image("image").get_data(),
                                      out.get_image("label").get_data())
        outs.append(out.get_image("image").get_data())
    np.testing.assert_array_equal(outs[0], outs[1])


def test_flip_probability_zero_is_identity():
    data = np.random.default_rng(0).random((1, 6, 6, 6))
    ctx = TransformContext()
    ctx.set_image("image", MedicalImage(data, "CDHW"))
    out = RandomSpatialFlip("image", probability=0.0).transform(ctx)
    np.testing.assert_array_equal(out.get_image("image").get_data(), data)


def test_random_shift_intensity_probability_zero_is_identity_and_one_shifts_every_field():
    from clara_transforms_basic.intensity import RandomShiftIntensity

    from clara_core import MedicalImage, TransformContext

    def run(probability):
        t = RandomShiftIntensity(["image", "other"], offset=1.0, probability=probability)
        t.set_random_state(3)
        ctx = TransformContext()
        for f in ("image", "other"):
            ctx.set_image(f, MedicalImage(np.zeros((1, 3, 3), np.float32), "CHW"))
        out = t.transform(ctx)
        return [out.get_image(f).get_data() for f in ("image", "other")]

    assert all(np.all(a == 0) for a in run(0.0))
    a, b = run(1.0)
    assert np.array_equal(a, b) and a[0, 0, 0] != 0 and a.dtype == np.float32
