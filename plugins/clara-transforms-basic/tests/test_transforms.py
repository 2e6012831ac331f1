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


# -- geometry: the affine follows the data --------------------------------------------

from clara_transforms_basic import crop_fixed, flip, orientation, regrid, warp  # noqa: E402

OBLIQUE = np.array([[0.0, 0.0, 2.0, -40.0], [0.0, -1.5, 0.0, 30.0],
                    [1.2, 0.0, 0.3, -20.0], [0.0, 0.0, 0.0, 1.0]])
WEIGHTS = np.array([1.0, -2.0, 3.0])


def _world_coded(shape=(20, 18, 16), affine=OBLIQUE):
    """An image whose value at each voxel is a linear function of its world position."""
    index = np.stack(np.meshgrid(*[np.arange(n) for n in shape], indexing="ij"), -1)
    world = index @ affine[:3, :3].T + affine[:3, 3]
    data = (world @ WEIGHTS)[None].astype(np.float64)
    return MedicalImage(data, "CDHW", {"affine": affine.copy(),
                                       "spacing": tuple(np.linalg.norm(affine[:3, :3], axis=0))})


@pytest.mark.parametrize("transform", [
    crop_fixed.CropFixedSizeRandomCenter("image", size=[9, 8, 7]),
    crop_fixed.CropSubVolumeCenter("image", size=[10, 10, 10]),
    flip.RandomAxisFlip("image", probability=1.0),
    flip.RandomSpatialFlip("image", probability=0.7),
    orientation.Orientation("image", axcodes="LPI"),
    orientation.Orientation("image", axcodes="RAS"),
    regrid.ScaleByResolution("image", target_resolution=[1.0, 1.0, 1.0]),
    regrid.ScaleToShape("image", target_shape=[11, 13, 7]),
    warp.RandomZoom("image", None, lower_limits=0.7, upper_limits=1.4, probability=1.0),
    warp.RandomRotate3D("image", None, angle=[20, 10, 30], probability=1.0),
], ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("seed", [0, 1])
def test_each_voxel_keeps_its_world_position(transform, seed):
    transform.set_random_state(seed)
    ctx = TransformContext()
    ctx.set_image("image", _world_coded())
    out = transform.transform(ctx).get_image("image")
    affine, data = out.get_property("affine"), out.get_data()[0]
    index = np.stack(np.meshgrid(*[np.arange(n) for n in data.shape], indexing="ij"), -1)
    expected = (index @ affine[:3, :3].T + affine[:3, 3]) @ WEIGHTS
    inner = tuple(slice(2, n - 2) for n in data.shape)  # interpolation meets padding at edges
    valid = data[inner] != 0
    assert valid.mean() > 0.5
    np.testing.assert_allclose(data[inner][valid], expected[inner][valid], atol=1e-3)


def test_orientation_matches_nibabel_canonical():
    import os

    from clara_transforms_basic.loaders.nifti import LoadNifti
    from nibabel.testing import data_path

    path = os.path.join(data_path, "reoriented_anat_moved.nii")
    ctx = LoadNifti("image").transform(TransformContext({"image": path}))
    out = orientation.Orientation("image", "RAS").transform(ctx).get_image("image")
    canonical = nib.as_closest_canonical(nib.load(path))
    np.testing.assert_allclose(out.get_property("affine"), canonical.affine, atol=1e-5)
    np.testing.assert_array_equal(out.get_data(), canonical.get_fdata(dtype=np.float32))


def test_resample_label_keeps_values_and_position():
    lab = np.zeros((1, 30, 30, 10), np.float32)
    lab[0, 10:16, 12:20, 4:7] = 2
    affine = np.diag([1.0, 1.0, 3.0, 1.0])
    ctx = TransformContext()
    ctx.set_image("label", MedicalImage(lab, "CDHW", {"affine": affine, "spacing": (1, 1, 3)}))
    out = regrid.ScaleByResolution("label", [1.5, 1.5, 1.5], is_label=True).transform(ctx)
    res = out.get_image("label")
    assert res.get_data().shape == (1, 20, 20, 20)
    assert sorted(np.unique(res.get_data()).tolist()) == [0.0, 2.0]
    def world_centre(img):
        idx = np.argwhere(img.get_data()[0] > 0).mean(0)
        return img.get_property("affine")[:3, :3] @ idx + img.get_property("affine")[:3, 3]
    np.testing.assert_allclose(world_centre(res), [12.5, 15.5, 15.0], atol=0.8)  # 1 x 1 x 3 mm


def test_intensity_transforms_of_some_channels_leave_the_others_alone():
    from clara_transforms_basic.intensity import NormalizeNonzeroIntensities, ScaleIntensityRange

    data = np.stack([np.full((4, 4, 4), -1000.0), np.arange(64.0).reshape(4, 4, 4)])
    ctx = TransformContext()
    ctx.set_image("image", MedicalImage(data.astype(np.float32), "CDHW"))
    ct = ScaleIntensityRange("image", a_min=-1000.0, a_max=1000.0, b_min=0.0, b_max=1.0,
                             clip=True, channels=[0])
    out = ct.transform(ctx).get_image("image").get_data()
    assert out.shape == data.shape and out.dtype == np.float32
    assert np.all(out[0] == 0.0) and np.array_equal(out[1], data[1])
    mr = NormalizeNonzeroIntensities("image", channels=[1]).transform(ctx).get_image("image")
    values = mr.get_data()[1][data[1] != 0]
    assert abs(values.mean()) < 1e-5 and np.all(mr.get_data()[0] == 0.0)
    with pytest.raises(ValueError, match="field 'image' has 2 channel.*no channel 2"):
        ScaleIntensityRange("image", a_min=0, a_max=1, channels=[2]).transform(ctx)
    with pytest.raises(ValueError, match="Invalid value for argument `channels`"):
        NormalizeNonzeroIntensities("image", channels=[1, 1])


def test_a_one_slice_volume_is_squeezed_and_put_back_and_a_2d_image_passes():
    from clara_transforms_basic.squeeze import SqueezeSpatialAxis, unsqueezed

    affine = np.diag([0.7, 4.0, 0.8, 1.0])
    affine[:3, 3] = [1.0, 2.0, 3.0]
    volume = MedicalImage(np.arange(20.0).reshape(1, 4, 1, 5), "CDHW",
                          {"affine": affine, "spacing": (0.7, 4.0, 0.8)})
    ctx = SqueezeSpatialAxis(["image", "plain"], axis=1).transform(TransformContext({
        "image": volume, "plain": MedicalImage(np.zeros((3, 3)), "HW")}))
    flat = ctx.get_image("image")
    assert flat.get_data().shape == (1, 4, 5) and str(flat.get_shape_format()) == "CHW"
    assert flat.get_property("spacing") == (0.7, 0.8)
    np.testing.assert_allclose(flat.get_property("affine")[:3, :2], affine[:3, [0, 2]])
    back = unsqueezed(flat)
    np.testing.assert_array_equal(back.get_data(), volume.get_data())
    np.testing.assert_allclose(back.get_property("affine"), affine)
    assert str(ctx.get_image("plain").get_shape_format()) == "HW"  # 2D: as it was
    thick = MedicalImage(np.zeros((4, 2, 5)), "DHW")
    with pytest.raises(ValueError, match="has 2 voxels along axis 1"):
        SqueezeSpatialAxis("image", axis=1).transform(TransformContext({"image": thick}))
