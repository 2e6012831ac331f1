import os
import tempfile

import nibabel as nib
import numpy as np
import scipy.io
import SimpleITK as sitk
from clara_transforms_basic import (
    brats,
    channels,
    crop,
    crop_fixed,
    csv_out,
    extreme_points,
    flip,
    intensity,
    label,
    nifti_out,
    orientation,
    png_out,
    regrid,
    squeeze,
    warp,
)
from clara_transforms_basic.loaders import arrays, nifti
from clara_transforms_basic.loaders import sitk as sitk_loaders
from clara_transforms_basic.loaders.sitk import kept_locale

from clara_core import MedicalImage, TransformContext
from clara_core.testing import default_sample, parametrize_with_checks

WRITERS = {
    nifti.LoadNifti: ("nii.gz", lambda p: nib.save(
        nib.Nifti1Image(np.arange(60, dtype=np.int16).reshape(3, 4, 5), np.eye(4)), p)),
    sitk_loaders.LoadImage: ("mha", lambda p: sitk.WriteImage(
        sitk.GetImageFromArray(np.arange(60, dtype=np.int16).reshape(3, 4, 5)), p)),
    sitk_loaders.LoadPng: ("png", lambda p: sitk.WriteImage(
        sitk.GetImageFromArray(np.arange(12, dtype=np.uint8).reshape(3, 4)), p)),
    sitk_loaders.LoadJpg: ("jpg", lambda p: sitk.WriteImage(
        sitk.GetImageFromArray(np.full((8, 8), 100, dtype=np.uint8)), p)),
    sitk_loaders.LoadTiff: ("tif", lambda p: sitk.WriteImage(
        sitk.GetImageFromArray(np.arange(12, dtype=np.uint16).reshape(3, 4)), p)),
    arrays.LoadNumpy: ("npy", lambda p: np.save(p, np.ones((3, 4, 5)))),
    arrays.LoadMat: ("mat", lambda p: scipy.io.savemat(p, {"v": np.ones((3, 4, 5))})),
}


def _dicom_folder(folder):
    """A 3-slice CT series written by SimpleITK (GDCM)."""
    with kept_locale():
        return _write_series(folder)


def _write_series(folder):
    volume = sitk.GetImageFromArray(np.arange(48, dtype=np.int16).reshape(3, 4, 4))
    volume.SetSpacing((0.8, 0.8, 2.5))
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    for k in range(3):
        slice_ = volume[:, :, k]
        for tag, value in (("0008|0060", "CT"), ("0020|000e", "1.2.826.0.1.3680043.2.1125.1"),
                           ("0020|0032", f"0\\0\\{2.5 * k}"), ("0020|0013", str(k)),
                           ("0020|0037", "1\\0\\0\\0\\1\\0"), ("0028|0030", "0.8\\0.8")):
            slice_.SetMetaData(tag, value)
        writer.SetFileName(os.path.join(folder, f"{k}.dcm"))
        writer.Execute(slice_)
    return folder


def sample(component):
    folder = tempfile.mkdtemp()
    if isinstance(component, sitk_loaders.LoadDicomSeries):
        return TransformContext({f: _dicom_folder(tempfile.mkdtemp()) for f in component.fields})
    for cls, (ext, write) in WRITERS.items():
        if type(component) is cls:
            ctx = TransformContext()
            for field in component.fields:
                path = os.path.join(folder, f"{field}.{ext}")
                write(path)
                ctx[field] = path
            return ctx
    if isinstance(component, warp.RandomRotate2D):
        ctx = TransformContext()
        rng = np.random.default_rng(0)
        ctx.set_image("image", MedicalImage(rng.normal(size=(1, 16, 16)), "CHW"))
        ctx.set_image("label", MedicalImage((rng.random((1, 16, 16)) > 0.5) * 1.0, "CHW"))
        return ctx
    if isinstance(component, channels.ConvertToChannelsFirst):
        ctx = TransformContext()
        ctx.set_image("image", MedicalImage(np.zeros((6, 7, 8)), "DHW", {"affine": np.eye(4)}))
        return ctx
    if isinstance(component, squeeze.SqueezeSpatialAxis):  # one-slice volumes
        rng = np.random.default_rng(0)
        shape = [6, 7, 8]
        shape[component.axis % 3] = 1
        grid = {"affine": np.diag([0.7, 0.8, 5.0, 1.0]), "spacing": (0.7, 0.8, 5.0)}
        return TransformContext({"image": MedicalImage(rng.normal(size=[1, *shape]), "CDHW",
                                                       dict(grid)),
                                 "label": MedicalImage(np.ones(shape), "DHW", dict(grid))})
    if isinstance(component, channels.MergeBatchDims):  # a batch, as batch_transforms get
        rng = np.random.default_rng(0)
        return TransformContext({f: MedicalImage(rng.normal(size=(4, 1, 6, 6, 6)), "NCDHW")
                                 for f in component.fields})
    return default_sample(component)


COMPONENTS = [
    nifti.LoadNifti(["image", "label"]),
    sitk_loaders.LoadImage("image"),
    sitk_loaders.LoadDicomSeries("image"),
    sitk_loaders.LoadPng("image"),
    sitk_loaders.LoadJpg("image"),
    sitk_loaders.LoadTiff("image"),
    arrays.LoadNumpy("image", shape="DHW"),
    arrays.LoadMat("image", shape="DHW"),
    channels.ConvertToChannelsFirst(["image"]),
    channels.RepeatChannel("image", repeat=3),
    channels.SplitAcrossChannels("image"),
    orientation.Orientation(["image", "label"], axcodes="RAS"),
    regrid.ScaleByResolution("image", target_resolution=[2.0, 2.0, 2.0]),
    regrid.ScaleBySpacing("label", target_spacing=1.0, is_label=True),
    regrid.ScaleToShape(["image"], target_shape=[8, 12, 10]),
    regrid.ScaleByFactor("image", factor=0.5),
    crop.CropByPosNegRatio(size=[8, 8, 8], num_samples=2),
    crop.CropByPosNegRatio(size=[8, 8, 8], num_samples=1),
    crop.FastCropByPosNegRatio(size=[8, 8, 8], batch_size=2),
    crop_fixed.CropForegroundObject(["image", "label"], margin=2),
    crop_fixed.CropFixedSizeRandomCenter(["image", "label"], size=[8, 10, 12]),
    crop_fixed.CropSubVolumeCenter(["image", "label"], size=[8, 8, 20]),
    crop_fixed.SymmetricPadderDiv(["image", "label"], size_div=[8, 8, 24]),
    intensity.ScaleIntensityRange("image", a_min=-1.0, a_max=1.0, clip=True),
    intensity.ScaleShiftIntensity("image", scale=2.0, shift=0.5),
    intensity.ScaleIntensityOscillation("image", magnitude=0.2),
    intensity.NormalizeNonzeroIntensities("image"),
    intensity.ScaleIntensityRange("image", a_min=-1.0, a_max=1.0, clip=True, channels=[0]),
    intensity.NormalizeNonzeroIntensities("image", channels=[0]),
    intensity.CenterData("image"),
    intensity.AdjustContrast("image", gamma=1.5),
    intensity.ThresholdValues("image", threshold=0.0),
    intensity.RandomShiftIntensity(["image"], offset=0.2, probability=0.5),
    intensity.AddGaussianNoise("image", probability=0.5, variance=0.05),
    intensity.RandomGaussianSmooth("image", probability=0.5),
    intensity.RandomMRBiasField("image", probability=0.5),
    flip.RandomSpatialFlip(["image", "label"]),
    flip.RandomAxisFlip(["image", "label"], probability=0.7),
    warp.RandomZoom("image", "label", lower_limits=0.8, upper_limits=1.3, probability=0.8),
    warp.RandomRotate2D("image", "label", angle=30, probability=0.8),
    warp.RandomRotate3D("image", "label", angle=[10, 10, 30], probability=0.8),
    label.ConvertToMultiChannelBasedOnLabel("label", labels=[1]),
    label.ConvertToMultiChannelBasedOnLabel("label", labels=[[1, 2], 2]),
    label.ConvertToMultiChannelBasedOnLabel("label", labels=[[1, 2], 2],
                                            regions_class_order=[1, 2]),
    label.MapLabelValue("label", [0, 1], [0, 3]),
    squeeze.SqueezeSpatialAxis(["image", "label"]),
    squeeze.SqueezeSpatialAxis(["image", "label"], axis=0),
    brats.ConvertToMultiChannelBasedOnBratsClasses("label"),
    channels.ConvertToChannelsLast(["image", "label"]),
    channels.MergeBatchDims(["image", "label"]),
    label.ArgmaxAcrossChannels("label"),
    label.KeepLargestCC("label", connectivity=1),
]


@parametrize_with_checks(COMPONENTS, sample=sample)
def test_conformance(component, check):
    check(component)


def _sdk_sample(component):
    ctx = default_sample(component)
    if isinstance(component, label.SplitBasedOnLabel):  # a label map of values 0, 1, 2
        values = np.random.default_rng(0).integers(0, 3, (1, 16, 16, 16)).astype("float32")
        ctx.set_image("model", ctx.get_image("model").new_image(values, "CDHW"))
    if isinstance(component, label.CopyProperties):
        ctx.set_image("image", ctx.get_image("pred"))
    return ctx


SDK_COMPONENTS = [
    crop.FastPosNegRatioCropROI(size=[8, 8, 8], rotation=True, scale=True, deform=True),
    crop.FastPosNegRatioCropROI(size=[8, 8, 8]),
    label.SplitBasedOnLabel("model", ["c0", "c1", "c2"]),
    label.CopyProperties(["pred"], from_field="image", properties=["affine"]),
    nifti_out.SaveAsNifti(["image", "label"], out_dir=tempfile.mkdtemp()),
    extreme_points.AddExtremePointsChannel("image", "label", sigma=2, permutation=1),
    extreme_points.AddExtremePointsChannel("image", "label", points_channel_field="clicks"),
    warp.RandomRotate3D(fields=["image", "label"], probability=0.8),
]


@parametrize_with_checks(SDK_COMPONENTS, sample=_sdk_sample)
def test_sdk_transform_conformance(component, check):
    check(component)


@parametrize_with_checks([
    nifti_out.WriteNifti(),
    nifti_out.WriteNifti(field="model", dtype="uint8", suffix="_seg", resample_to_input=False),
    csv_out.WriteClassificationResult(),
])
def test_writer_conformance(component, check):
    check(component)


def _picture_case(component):
    """A 2D picture case as clara infer gives its writer: class numbers on the frame."""
    rng = np.random.default_rng(0)
    ctx = TransformContext()
    props = {"filename": "/data/case_01.png"}
    ctx.set_image("image", MedicalImage(rng.normal(size=(1, 8, 6)), "CHW", dict(props)))
    ctx.set_image("model", MedicalImage(rng.integers(0, 3, (1, 8, 6)), "CHW", dict(props)))
    return ctx


@parametrize_with_checks([png_out.WritePng()], sample=_picture_case)
def test_png_writer_conformance(component, check):
    check(component)


def test_every_transform_of_the_plugin_runs_the_kit():
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="clara.transforms")
             if ep.value.startswith("clara_transforms_basic.")}
    checked = {type(c).__name__ for c in COMPONENTS + SDK_COMPONENTS}
    assert names - checked == set(), "add these to a conformance list"
