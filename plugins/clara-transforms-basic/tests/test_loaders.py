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
    value = path if isinstance(path, list) else str(path)
    return loader.transform(TransformContext({"image": value})).get_image("image")


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


# -- DICOM series ----------------------------------------------------------------

def _series_from(folder, source, positions):
    """Copies of one pydicom test slice, moved to ``positions`` along z, as one series."""
    import pydicom

    for k, z in enumerate(positions):
        ds = pydicom.dcmread(source)
        ds.ImagePositionPatient = [ds.ImagePositionPatient[0], ds.ImagePositionPatient[1], z]
        ds.InstanceNumber = k + 1
        ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{k + 1}"
        arr = ds.pixel_array.copy()
        arr[0, 0] = k  # tells the slices apart
        ds.PixelData = arr.tobytes()
        ds.save_as(os.path.join(folder, f"slice{len(positions) - k}.dcm"))  # names unsorted
    return folder


def test_dicom_series_geometry_matches_pydicom(tmp_path):
    import pydicom
    from clara_transforms_basic.loaders.sitk import LoadDicomSeries
    from pydicom.data import get_testdata_file

    source = get_testdata_file("CT_small.dcm")
    ref = pydicom.dcmread(source)
    z0 = float(ref.ImagePositionPatient[2])
    folder = _series_from(str(tmp_path), source, [z0, z0 + 2.5, z0 + 5.0, z0 + 7.5])
    img = load(LoadDicomSeries("image"), folder)
    assert img.get_data().shape == (ref.Columns, ref.Rows, 4)
    # slices sorted by position, whatever the file names; values through the modality LUT
    from pydicom.pixels import apply_modality_lut
    np.testing.assert_allclose(img.get_data()[0, 0, :],
                               apply_modality_lut(np.arange(4), ref), atol=1e-3)
    np.testing.assert_allclose(img.get_property("spacing"),
                               [*map(float, ref.PixelSpacing), 2.5], rtol=1e-5)
    # voxel (0, 0, 0) sits at ImagePositionPatient, in RAS (DICOM is LPS)
    lps = np.array(ref.ImagePositionPatient, float)
    np.testing.assert_allclose(img.get_property("affine")[:3, 3], lps * [-1, -1, 1], atol=1e-4)
    expected = apply_modality_lut(ref.pixel_array, ref).T
    np.testing.assert_allclose(img.get_data()[1:, 1:, 3], expected[1:, 1:], atol=1e-3)
    assert img.get_property("num_slices") == 4


def test_dicom_series_errors_name_the_folder(tmp_path):
    from clara_transforms_basic.loaders.sitk import LoadDicomSeries

    (tmp_path / "notes.txt").write_text("no dicom here")
    with pytest.raises(ValueError, match=f"no DICOM series in {tmp_path}"):
        load(LoadDicomSeries("image"), tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load(LoadDicomSeries("image"), tmp_path / "notes.txt")


def test_a_series_with_a_missing_slice_is_refused_not_stretched(tmp_path):
    import pydicom
    from clara_transforms_basic.loaders.sitk import LoadDicomSeries
    from pydicom.data import get_testdata_file

    source = get_testdata_file("CT_small.dcm")
    z0 = float(pydicom.dcmread(source).ImagePositionPatient[2])
    folder = _series_from(str(tmp_path), source, [z0, z0 + 2.0, z0 + 6.0, z0 + 8.0])
    with pytest.raises(ValueError, match=r"not evenly spaced: slices 2 and 3 of 4 are 4 mm "
                                         r"apart where the others are 2 mm \(a missing"):
        load(LoadDicomSeries("image"), folder)


def test_a_2d_nifti_or_metaimage_is_a_2d_image_with_its_geometry(tmp_path):
    # what SimpleITK and other tools write for a slice: 2 dimensions and a 4x4 affine
    affine = np.eye(4)
    affine[:2, :2] = np.array([[0.0, -1], [1, 0]]) @ np.diag([0.7, 1.2])
    affine[:2, 3] = [10.0, -20.0]
    data = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    path = tmp_path / "slice.nii.gz"
    nib.save(nib.Nifti1Image(data, affine), path)
    image = load(LoadNifti(["image"]), path)
    assert str(image.get_shape_format()) == "HW"
    np.testing.assert_allclose(image.get_data(), data)
    assert image.get_property("spacing") == pytest.approx((0.7, 1.2))
    np.testing.assert_allclose(image.get_property("affine"), affine, atol=1e-5)
    mha = tmp_path / "slice.mha"
    sitk.WriteImage(sitk.ReadImage(str(path)), str(mha))
    again = load(LoadImage(["image"]), mha)
    assert str(again.get_shape_format()) == "HW"
    np.testing.assert_allclose(again.get_data(), data, rtol=1e-6)
    np.testing.assert_allclose(again.get_property("affine"), affine, atol=1e-5)


def test_a_folder_of_one_dicom_file_is_that_file(tmp_path):
    import shutil

    from clara_transforms_basic.loaders.sitk import LoadDicomSeries
    from pydicom.data import get_testdata_file

    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "only.dcm")
    img = load(LoadDicomSeries("image"), str(tmp_path))
    assert img.get_data().shape == (128, 128, 1) and img.get_property("num_slices") == 1


# -- 2D and array files ------------------------------------------------------------

def test_png_and_jpg_grey_and_colour(tmp_path):
    from clara_transforms_basic.loaders.sitk import LoadJpg, LoadPng

    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    sitk.WriteImage(sitk.GetImageFromArray(rgb, isVector=True), str(tmp_path / "c.png"))
    img = load(LoadPng("image"), tmp_path / "c.png")
    assert str(img.get_shape_format()) == "HWC"
    np.testing.assert_array_equal(img.get_data(), rgb)
    grey = np.full((6, 4), 128, np.uint8)
    sitk.WriteImage(sitk.GetImageFromArray(grey), str(tmp_path / "g.jpg"))
    img = load(LoadJpg("image"), tmp_path / "g.jpg")
    assert str(img.get_shape_format()) == "HW" and img.get_data().shape == (6, 4)
    assert abs(float(img.get_data().mean()) - 128) < 2  # lossy
    with pytest.raises(ValueError, match="not a .png file"):
        load(LoadPng("image"), tmp_path / "g.jpg")


def test_tiff_and_bmp_pictures_load_like_png(tmp_path):
    from clara_transforms_basic.loaders.sitk import LoadPng, LoadTiff

    grey = np.random.default_rng(1).integers(0, 4000, (5, 7), dtype=np.uint16)
    sitk.WriteImage(sitk.GetImageFromArray(grey), str(tmp_path / "g.tif"))
    img = load(LoadTiff("image"), tmp_path / "g.tif")
    assert str(img.get_shape_format()) == "HW"
    np.testing.assert_array_equal(img.get_data(), grey)
    rgb = np.random.default_rng(2).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    for name in ("c.png", "c.bmp"):
        sitk.WriteImage(sitk.GetImageFromArray(rgb, isVector=True), str(tmp_path / name))
    np.testing.assert_array_equal(load(LoadTiff("image"), tmp_path / "c.bmp").get_data(),
                                  load(LoadPng("image"), tmp_path / "c.png").get_data())


def test_numpy_and_mat_loaders(tmp_path):
    import scipy.io
    from clara_transforms_basic.loaders.arrays import LoadMat, LoadNumpy

    vol = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    np.savez(tmp_path / "a.npz", image=vol, other=vol)
    img = load(LoadNumpy("image", shape="DHW", key="image"), tmp_path / "a.npz")
    np.testing.assert_array_equal(img.get_data(), vol)
    with pytest.raises(ValueError, match=r"holds \[.image., .other.\]; choose one with `key`"):
        load(LoadNumpy("image", shape="DHW"), tmp_path / "a.npz")
    np.save(tmp_path / "b.npy", vol)
    with pytest.raises(ValueError, match=r"b.npy holds an array of shape \(2, 3, 4\).*CDHW"):
        load(LoadNumpy("image", shape="CDHW"), tmp_path / "b.npy")
    scipy.io.savemat(tmp_path / "c.mat", {"vol": vol})
    np.testing.assert_array_equal(load(LoadMat("image", shape="DHW"), tmp_path / "c.mat")
                                  .get_data(), vol)
    (tmp_path / "d.mat").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="d.mat as a MATLAB file"):
        load(LoadMat("image", shape="DHW"), tmp_path / "d.mat")


def test_reading_dicom_leaves_the_locale_alone(tmp_path):
    import locale

    from clara_transforms_basic.loaders.sitk import LoadDicomSeries
    from pydicom.data import get_testdata_file

    before = locale.getpreferredencoding(False)
    folder = _series_from(str(tmp_path), get_testdata_file("CT_small.dcm"), [0.0, 2.0])
    load(LoadDicomSeries("image"), folder)
    assert locale.getpreferredencoding(False) == before  # GDCM would set "C": ASCII files


def test_load_nifti_reads_gzip_itself_like_nibabel(tmp_path):
    import gzip

    data = np.arange(120, dtype=np.int16).reshape(4, 5, 6)
    nii = nib.Nifti2Image(data, np.diag([2.0, 3.0, 4.0, 1.0]))
    nii.header.set_slope_inter(0.5, -3.0)
    nib.save(nii, tmp_path / "two.nii.gz")
    img = load(LoadNifti("image"), tmp_path / "two.nii.gz")
    np.testing.assert_allclose(img.get_data(), nib.load(tmp_path / "two.nii.gz").get_fdata())
    assert img.get_data().flags.c_contiguous
    raw = gzip.decompress((tmp_path / "two.nii.gz").read_bytes())
    (tmp_path / "multi.nii.gz").write_bytes(gzip.compress(raw[:500]) + gzip.compress(raw[500:]))
    np.testing.assert_array_equal(load(LoadNifti("image"), tmp_path / "multi.nii.gz").get_data(),
                                  img.get_data())
    (tmp_path / "cut.nii.gz").write_bytes((tmp_path / "two.nii.gz").read_bytes()[:-20])
    with pytest.raises(ValueError, match="cut.nii.gz.*truncated"):
        load(LoadNifti("image"), tmp_path / "cut.nii.gz")


# -- one file per channel ------------------------------------------------------------

def _channel_files(tmp_path, count=2, shape=(6, 5, 4), affine=None):
    """``count`` 3D NIfTI files, channel ``c`` holding ``c * 100 + index``; their 4D twin."""
    affine = np.diag([0.8, 0.8, 2.5, 1.0]) if affine is None else affine
    base = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    paths = []
    for c in range(count):
        paths.append(str(tmp_path / f"case_{c:04d}.nii.gz"))
        nib.save(nib.Nifti1Image(base + 100 * c, affine), paths[-1])
    stacked = np.stack([base + 100 * c for c in range(count)], axis=-1)
    nib.save(nib.Nifti1Image(stacked, affine), tmp_path / "case_4d.nii.gz")
    # SimpleITK's multi-channel file: a vector image (components), as LoadImage reads it
    vector = sitk.GetImageFromArray(np.transpose(stacked, (2, 1, 0, 3)), isVector=True)
    vector.CopyInformation(sitk.ReadImage(paths[0]))
    sitk.WriteImage(vector, str(tmp_path / "case_4d.mha"))
    return paths, str(tmp_path / "case_4d.nii.gz")


@pytest.mark.parametrize("loader", [LoadNifti, LoadImage])
def test_channel_files_stack_in_list_order_like_a_4d_file(tmp_path, loader):
    paths, four_d = _channel_files(tmp_path, count=3)
    ours = load(loader("image"), paths)
    twin = load(loader("image"), four_d if loader is LoadNifti else four_d[:-7] + ".mha")
    assert str(ours.get_shape_format()) == str(twin.get_shape_format()) == "DHWC"
    np.testing.assert_array_equal(ours.get_data(), twin.get_data())
    assert ours.get_data()[0, 0, 0].tolist() == [0.0, 100.0, 200.0]
    assert ours.get_property("spacing") == twin.get_property("spacing")
    np.testing.assert_allclose(ours.get_property("affine"), twin.get_property("affine"))
    if loader is LoadNifti:  # the file's shape, as a 4D file records it
        assert ours.get_property("original_shape") == twin.get_property("original_shape") \
            == (6, 5, 4, 3)
    assert ours.get_property("filename") == paths[0]
    reordered = load(loader("image"), [paths[1], paths[0]])
    assert reordered.get_data()[0, 0, 0].tolist() == [100.0, 0.0]


def test_a_list_of_one_file_or_an_array_of_names_loads_like_the_name(tmp_path):
    paths, _ = _channel_files(tmp_path)
    plain = load(LoadNifti("image"), paths[0])
    one = LoadNifti("image").transform(TransformContext({"image": [paths[0]]})).get_image("image")
    assert str(one.get_shape_format()) == "DHW"
    np.testing.assert_array_equal(one.get_data(), plain.get_data())
    names = np.array([p.encode() for p in paths])  # as tf.data hands strings over
    both = LoadNifti("image").transform(TransformContext({"image": names})).get_image("image")
    assert both.get_data().shape == (6, 5, 4, 2)
    with pytest.raises(ValueError, match="field 'image' lists no files"):
        LoadNifti("image").transform(TransformContext({"image": []}))


def test_channel_files_on_another_grid_are_refused_naming_both(tmp_path):
    paths, _ = _channel_files(tmp_path)
    other = str(tmp_path / "small.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((6, 5, 3), np.float32), np.diag([0.8, 0.8, 2.5, 1])), other)
    with pytest.raises(ValueError, match=r"LoadNifti: .*small.nii.gz \(DHW, shape \(6, 5, 3\)\) "
                                         r"is not on the grid of .*case_0000.nii.gz \(DHW, shape "
                                         r"\(6, 5, 4\)\).*resample them"):
        load(LoadNifti("image"), [paths[0], other])
    moved = str(tmp_path / "moved.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((6, 5, 4), np.float32), np.diag([1.0, 0.8, 2.5, 1])), moved)
    with pytest.raises(ValueError, match=r"moved.nii.gz has spacing \[1.0, 0.8, 2.5\] but "
                                         r".*case_0000.nii.gz has \[0.8, 0.8, 2.5\]"):
        load(LoadImage("image"), [paths[0], moved])
    # header round-off is the same grid
    nudged = str(tmp_path / "nudged.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((6, 5, 4), np.float32),
                             np.diag([0.8, 0.8, 2.5, 1]) + 1e-6), nudged)
    assert load(LoadNifti("image"), [paths[0], nudged]).get_data().shape == (6, 5, 4, 2)


def test_channel_files_that_have_channels_are_joined_along_them(tmp_path):
    from clara_transforms_basic.loaders.arrays import LoadNumpy

    np.save(tmp_path / "a.npy", np.zeros((2, 3, 4, 5), np.float32))
    np.save(tmp_path / "b.npy", np.ones((1, 3, 4, 5), np.float32))
    img = load(LoadNumpy("image", shape="CDHW"), [str(tmp_path / "a.npy"), str(tmp_path / "b.npy")])
    assert str(img.get_shape_format()) == "CDHW" and img.get_data().shape == (3, 3, 4, 5)
    assert img.get_data()[:, 0, 0, 0].tolist() == [0.0, 0.0, 1.0]
    assert img.get_property("original_shape") == (3, 3, 4, 5)
