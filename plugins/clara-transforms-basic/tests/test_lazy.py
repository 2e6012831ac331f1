"""Fused lazy spatial transforms: the same result as the transforms one by one, one
resampling from the whole volume, and the resampler equal to SciPy's."""

from __future__ import annotations

import numpy as np
import pytest
from clara_transforms_basic.crop import CropByPosNegRatio, FastPosNegRatioCropROI
from clara_transforms_basic.crop_fixed import CropFixedSizeRandomCenter
from clara_transforms_basic.flip import RandomSpatialFlip
from clara_transforms_basic.geometry import about_center, rotation
from clara_transforms_basic.lazy import LazyImage, lazy
from clara_transforms_basic.resampler import integral_layout, resample_into
from clara_transforms_basic.warp import RandomRotate3D, RandomZoom
from scipy import ndimage

from clara_core import MedicalImage, TransformContext

SHAPE = (40, 36, 30)
AFFINE = np.array([[0.0, 0.0, 2.0, -40.0], [0.0, -1.5, 0.0, 30.0],
                   [1.2, 0.0, 0.3, -20.0], [0.0, 0.0, 0.0, 1.0]])
WEIGHTS = np.array([1.0, -2.0, 3.0])


def _ramp_case(ones: bool = False) -> TransformContext:
    """An image linear in its voxel index (linear interpolation reproduces it exactly),
    or all ones, and a label of unique voxel ids (nearest neighbour's pick can be read
    back)."""
    index = np.indices(SHAPE, dtype=np.float64)
    image = (index.T @ [1.0, 0.5, 0.25]).T[None] + 1.0
    if ones:
        image = np.ones_like(image)
    ids = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(1, *SHAPE)
    ctx = TransformContext()
    ctx.set_image("image", MedicalImage(image, "CDHW", {"affine": AFFINE.copy()}))
    ctx.set_image("label", MedicalImage(ids, "CDHW", {"affine": AFFINE.copy()}))
    return ctx


def _chain(samples: int = 1) -> list:
    return [CropByPosNegRatio(size=[16, 14, 12], pos=1, neg=0, num_samples=samples),
            RandomRotate3D(angle=20, probability=1.0),
            RandomZoom(lower_limits=0.8, upper_limits=1.2, probability=1.0),
            RandomSpatialFlip(["image", "label"], probability=0.5)]


def _eager(ctx: TransformContext) -> TransformContext:
    """Every field resampled now: the next transform starts from a concrete image."""
    for field in ("image", "label"):
        img = ctx.get_image(field)
        ctx.set_image(field, MedicalImage(img.get_data(), img.get_shape_format(),
                                          img.get_properties()))
    return ctx


def _run(ctx: TransformContext, seed: int, fused: bool, samples: int = 1) -> TransformContext:
    for k, t in enumerate(_chain(samples)):
        t.set_random_state(seed * 10 + k)
        ctx = t.transform(ctx)
        if not fused:
            ctx = _eager(ctx)
    return ctx


@pytest.mark.parametrize("seed", range(4))
def test_fused_chain_equals_one_by_one_on_a_ramp(seed):
    fused = _run(_ramp_case(), seed, fused=True).get_image("image")
    assert isinstance(fused, LazyImage)
    eager = _run(_ramp_case(), seed, fused=False).get_image("image").get_data()
    data = fused.get_data()
    # the eager chain pads each step's corners with zeros and blends them in at the
    # next step: compare where an image of ones came through that chain untouched
    ones = _run(_ramp_case(ones=True), seed, fused=False).get_image("image").get_data()
    valid = np.abs(ones - 1) < 1e-12
    assert valid.mean() > 0.3
    np.testing.assert_allclose(data[valid], eager[valid], atol=1e-9)
    # the fused crop's corners hold the tissue around it, not padding
    assert (data != 0).mean() > (eager != 0).mean()
    np.testing.assert_allclose(fused.get_property("affine"),
                               _run(_ramp_case(), seed, False).get_image("image")
                               .get_property("affine"))


@pytest.mark.parametrize("seed", range(4))
def test_label_is_the_nearest_source_voxel_through_the_composed_map(seed):
    out = _run(_ramp_case(), seed, fused=True).get_image("label")
    ids = out.get_data()[0]
    index_map = np.linalg.solve(AFFINE, out.get_property("affine"))  # output -> source
    grid = np.indices(ids.shape).reshape(3, -1)
    source = index_map[:3, :3] @ grid + index_map[:3, 3:]
    inside = ((source >= 0) & (source <= np.array(SHAPE)[:, None] - 1)).all(axis=0)
    nearest = np.floor(source + 0.5).astype(int)
    expected = np.ravel_multi_index(tuple(np.where(inside, nearest, 0)), SHAPE)
    np.testing.assert_array_equal(ids.reshape(-1)[inside], expected[inside])
    assert set(np.unique(ids)) <= set(range(int(np.prod(SHAPE))))  # no blended ids


def test_each_voxel_keeps_its_world_position_through_the_fused_chain():
    index = np.indices(SHAPE).reshape(3, -1)
    world = AFFINE[:3, :3] @ index + AFFINE[:3, 3:]
    ctx = TransformContext()
    ctx.set_image("image", MedicalImage((WEIGHTS @ world).reshape(1, *SHAPE), "CDHW",
                                        {"affine": AFFINE.copy()}))
    ctx.set_image("label", MedicalImage(np.ones((1, *SHAPE)), "CDHW", {"affine": AFFINE.copy()}))
    out = _run(ctx, 3, fused=True).get_image("image")
    data, affine = out.get_data()[0], out.get_property("affine")
    grid = np.indices(data.shape).reshape(3, -1)
    expected = WEIGHTS @ (affine[:3, :3] @ grid + affine[:3, 3:])
    valid = data.reshape(-1) != 0
    assert valid.mean() > 0.5
    np.testing.assert_allclose(data.reshape(-1)[valid], expected[valid], atol=1e-6)
    np.testing.assert_allclose(out.get_property("spacing"),
                               np.linalg.norm(affine[:3, :3], axis=0))


def test_stacked_crops_are_fused_per_crop():
    fused = _run(_ramp_case(), 1, fused=True, samples=3)
    image = fused.get_image("image")
    assert image.get_shape_format().is_batched() and image.get_data().shape == (3, 1, 16, 14, 12)
    assert image.get_property("affine") is None
    for k in range(3):  # each crop equals that crop's one-by-one chain where it is defined
        assert not np.array_equal(image.get_data()[k], image.get_data()[(k + 1) % 3])


def test_fast_crop_roi_rotates_and_deforms_from_the_whole_volume():
    t = FastPosNegRatioCropROI(size=[12, 12, 12], pos=1, neg=0, rotation=True, scale=True,
                               deform=True, batch_size=2)
    t.set_random_state(0)
    ctx = _ramp_case()
    centre = np.zeros((1, *SHAPE))
    centre[0, 18:22, 16:20, 13:17] = 1  # crops centred here lie well inside the volume
    ctx.set_image("label", MedicalImage(centre, "CDHW"))
    out = t.transform(ctx)
    image, label = out.get_image("image").get_data(), out.get_image("label").get_data()
    assert image.shape == label.shape == (2, 1, 12, 12, 12)
    assert (image != 0).all()  # no zero corners: the tissue around the crop
    assert set(np.unique(label)) == {0.0, 1.0}


def test_a_random_box_then_a_rotation_reads_the_surrounding_tissue():
    ctx = _ramp_case()
    crop = CropFixedSizeRandomCenter(["image", "label"], size=[16, 16, 16])
    crop.set_random_state(0)
    rot = RandomRotate3D(angle=[0, 0, 45], probability=1.0)
    rot.set_random_state(0)
    out = rot.transform(crop.transform(ctx)).get_image("image").get_data()
    assert (out == 0).mean() < 0.02


def test_a_stack_made_by_another_transform_is_rotated_eagerly():
    stack = MedicalImage(np.ones((2, 1, 9, 9, 9)), "NCDHW")
    ctx = TransformContext()
    ctx.set_image("image", stack)
    t = RandomRotate3D(label_field=None, angle=10, probability=1.0)
    t.set_random_state(0)
    out = t.transform(ctx).get_image("image")
    assert not isinstance(out, LazyImage) and out.get_data().shape == (2, 1, 9, 9, 9)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dims", [2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_resampler_equals_scipy(order, dims, dtype):
    rng = np.random.default_rng(dims * 10 + order)
    source = (rng.random((2, *([17] * dims))) * 100).astype(dtype)
    linear = rotation([0.3] if dims == 2 else [0.2, -0.1, 0.4]) @ np.diag(rng.uniform(0.8, 1.2,
                                                                                     dims))
    index_map = about_center([13] * dims, linear)
    index_map[:dims, dims] += 2.3
    out = np.empty((2, *([13] * dims)), dtype)
    resample_into(source, index_map, out, order)
    for c in range(2):
        expected = ndimage.affine_transform(source[c].astype(np.float64), index_map[:dims, :dims],
                                            index_map[:dims, dims], output_shape=out.shape[1:],
                                            order=order, prefilter=False)
        if np.issubdtype(dtype, np.integer):
            expected = np.rint(expected)
        differ = np.abs(out[c] - expected.astype(dtype)) > (1e-4 if dtype == np.float32 else 1e-9)
        assert differ.mean() < 0.01  # round-off exactly on the source's edge may differ


def test_resampler_displacement_is_a_dense_shift():
    source = np.indices((12, 12, 12), dtype=np.float64).sum(axis=0)[None]
    out, shifted = np.empty((1, 6, 6, 6)), np.empty((1, 6, 6, 6))
    index_map = about_center([6, 6, 6], np.eye(3))
    resample_into(source, index_map, out, 1, displacement=np.full((3, 6, 6, 6), 0.5))
    moved = index_map.copy()
    moved[:3, 3] += 0.5
    resample_into(source, moved, shifted, 1)
    np.testing.assert_allclose(out, shifted)


@pytest.mark.parametrize("seed", range(6))
def test_whole_voxel_maps_are_sliced_like_scipy(seed):
    rng = np.random.default_rng(seed)
    perm = rng.permutation(3)
    linear = np.zeros((3, 3))
    linear[perm, np.arange(3)] = rng.choice([-1.0, 1.0], 3)
    index_map = np.eye(4)
    index_map[:3, :3] = linear
    index_map[:3, 3] = rng.integers(-6, 20, 3)
    assert integral_layout(index_map) is not None
    source = rng.random((1, 14, 12, 10))
    out = np.empty((1, 9, 8, 7))
    resample_into(source, index_map, out, 1)
    expected = ndimage.affine_transform(source[0], linear, index_map[:3, 3], output_shape=(9, 8, 7),
                                        order=0, prefilter=False)
    np.testing.assert_array_equal(out[0], expected)


def test_lazy_refuses_a_stack():
    with pytest.raises(ValueError, match="stack of crops"):
        lazy(MedicalImage(np.zeros((2, 1, 4, 4)), "NCHW"))


def test_a_lazy_image_knows_its_shape_without_resampling():
    image = MedicalImage(np.zeros((1, 8, 8, 8), np.float32), "CDHW")
    crops = lazy(image).crop([[0, 0, 0], [2, 2, 2]], [4, 5, 6])
    assert crops.spatial_shape() == (4, 5, 6) and "pending" in repr(crops)
    assert crops.get_data().shape == (2, 1, 4, 5, 6) and "resampled" in repr(crops)
    assert image.spatial_shape() == (8, 8, 8)
    with pytest.raises(TypeError, match="data is None"):
        MedicalImage(None, "HW")


def test_move_flips_a_concrete_image_as_a_view_and_a_lazy_one_lazily():
    from clara_transforms_basic.geometry import flip
    from clara_transforms_basic.lazy import move

    data = np.arange(24.0).reshape(2, 3, 4)
    concrete = MedicalImage(data, "HWC")
    flipped = move(concrete, flip([2, 3], [0, 1]), [2, 3])
    assert not isinstance(flipped, LazyImage) and np.shares_memory(flipped.get_data(), data)
    np.testing.assert_array_equal(flipped.get_data(), data[::-1, ::-1])
    pending = move(lazy(concrete), flip([2, 3], [0, 1]), [2, 3])
    assert isinstance(pending, LazyImage)
    np.testing.assert_array_equal(pending.get_data(), data[::-1, ::-1])


def test_move_resamples_a_concrete_stack_now_with_the_scipy_engine():
    from clara_transforms_basic.lazy import move

    stack = np.random.default_rng(0).random((2, 1, 9, 9))
    index_map = about_center([9, 9], rotation([0.4]))
    out = move(MedicalImage(stack, "NCHW"), index_map, [9, 9], order=1)
    assert not isinstance(out, LazyImage)
    for k in range(2):
        expected = ndimage.affine_transform(stack[k, 0], index_map[:2, :2], index_map[:2, 2],
                                            order=1, prefilter=False)
        np.testing.assert_array_equal(out.get_data()[k, 0], expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_the_scipy_engine_is_scipy_bit_for_bit(dtype):
    rng = np.random.default_rng(1)
    source = (rng.random((2, 11, 12, 13)) * 100).astype(dtype)
    index_map = about_center([11, 12, 13], rotation([0.2, -0.1, 0.4]))
    out = np.empty((2, 11, 12, 13), dtype)
    resample_into(source, index_map, out, 1, engine="scipy")
    work = source if np.issubdtype(dtype, np.floating) else source.astype(np.float32)
    for c in range(2):  # integers: interpolated in float32, then truncated
        expected = ndimage.affine_transform(work[c], index_map[:3, :3], index_map[:3, 3],
                                            order=1, prefilter=False).astype(dtype)
        np.testing.assert_array_equal(out[c], expected)


def test_geometry_needs_neither_the_lazy_module_nor_the_engine():
    import subprocess
    import sys

    code = ("import sys, clara_transforms_basic.geometry; "
            "print(sorted(m for m in sys.modules if m.startswith('clara_transforms_basic.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['clara_transforms_basic.geometry']"
