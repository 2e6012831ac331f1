"""``clara infer`` end to end: the real command on a trained MMAR, new scans of other
sizes and grids, a DICOM series, a datalist, bad inputs, resuming and splitting."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from conftest import run_clara


@pytest.fixture(scope="module")
def trained(trained_mmar: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This module's copy of the session's trained MMAR (its tests write into it)."""
    copy = tmp_path_factory.mktemp("infer") / "mmar"
    shutil.copytree(trained_mmar, copy)
    return copy


def new_scans(folder: Path) -> dict[str, np.ndarray]:
    """Three scans the model never saw: other sizes, spacings, an oblique grid."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(5)
    oblique = np.array([[0.9, -0.3, 0, 12], [0.3, 0.9, 0, -4], [0, 0, 2.0, 30], [0, 0, 0, 1]])
    affines = {"scan_a": np.diag([1.0, 1.0, 1.0, 1.0]), "scan_b": np.diag([1.5, 0.7, 2.5, 1]),
               "scan_c": oblique}
    shapes = {"scan_a": (24, 20, 18), "scan_b": (17, 30, 9), "scan_c": (20, 20, 20)}
    for name, affine in affines.items():
        label = np.zeros(shapes[name], np.float32)
        label[4:12, 5:13, 2:8] = 1
        image = (label * 2 + rng.normal(scale=0.3, size=label.shape)).astype(np.float32)
        nib.save(nib.Nifti1Image(image, affine), folder / f"{name}.nii.gz")
    return affines


def seg_of(out: Path, name: str) -> nib.Nifti1Image:
    return nib.load(out / f"{name}_seg.nii.gz")


def test_infer_writes_integer_labels_on_each_inputs_grid(trained, tmp_path):
    import SimpleITK as sitk

    new_scans(tmp_path / "scans")
    out = tmp_path / "out"
    result = run_clara("infer", "-m", str(trained), "-i", str(tmp_path / "scans"), "-o",
                       str(out), "--save-probabilities")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "segmented 3 input(s)" in result.stdout
    for name in ("scan_a", "scan_b", "scan_c"):
        source = nib.load(tmp_path / "scans" / f"{name}.nii.gz")
        seg = seg_of(out, name)
        assert seg.shape == source.shape and np.allclose(seg.affine, source.affine, atol=1e-5)
        values = np.asarray(seg.dataobj)
        assert values.dtype == np.uint8 and set(np.unique(values)) <= {0, 1}
        a = sitk.ReadImage(str(tmp_path / "scans" / f"{name}.nii.gz"))
        b = sitk.ReadImage(str(out / f"{name}_seg.nii.gz"))
        assert a.GetSize() == b.GetSize()
        np.testing.assert_allclose(a.GetSpacing(), b.GetSpacing(), rtol=1e-5)
        np.testing.assert_allclose(a.GetOrigin(), b.GetOrigin(), atol=1e-4)
        np.testing.assert_allclose(a.GetDirection(), b.GetDirection(), atol=1e-5)
        prob = nib.load(out / f"{name}_prob.nii.gz")
        assert prob.shape == (*source.shape, 2)
    # a trained model finds the bright cube
    assert np.asarray(seg_of(out, "scan_a").dataobj)[6:10, 7:11, 3:7].mean() > 0.5


def test_skip_existing_overwrite_and_parts(trained, tmp_path):
    new_scans(tmp_path / "scans")
    out = tmp_path / "out"
    args = ["infer", "-m", str(trained), "-i", str(tmp_path / "scans"), "-o", str(out)]
    first = run_clara(*args, "--num-parts", "2", "--part-id", "0")
    second = run_clara(*args, "--num-parts", "2", "--part-id", "1")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "segmented 2 input(s)" in first.stdout and "segmented 1 input(s)" in second.stdout
    assert sorted(os.listdir(out)) == ["scan_a_seg.nii.gz", "scan_b_seg.nii.gz",
                                       "scan_c_seg.nii.gz"]
    stamp = (out / "scan_b_seg.nii.gz").stat().st_mtime_ns
    again = run_clara(*args)
    assert "segmented 0 input(s)" in again.stdout and "skipped 3" in again.stdout
    assert (out / "scan_b_seg.nii.gz").stat().st_mtime_ns == stamp
    redo = run_clara(*args, "--overwrite", "--checkpoint", "final")
    assert redo.returncode == 0 and "segmented 3 input(s)" in redo.stdout
    assert (out / "scan_b_seg.nii.gz").stat().st_mtime_ns != stamp


def test_numbered_scans_of_a_one_channel_model_are_cases_of_their_own(trained, tmp_path):
    scans = new_scans(tmp_path / "scans")
    for i, name in enumerate(sorted(scans)):  # scan_0000, scan_0001, ...: nnU-Net-like names
        folder = tmp_path / "scans"
        os.rename(folder / f"{name}.nii.gz", folder / f"scan_{i:04d}.nii.gz")
    out = tmp_path / "out"
    done = run_clara("infer", "-m", str(trained), "-i", str(tmp_path / "scans"), "-o", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(os.listdir(out)) == [f"scan_{i:04d}_seg.nii.gz" for i in range(len(scans))]


def test_bad_inputs_are_listed_and_skipped(trained, tmp_path):
    new_scans(tmp_path / "scans")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "truncated.nii.gz").write_bytes((tmp_path / "scans" / "scan_a.nii.gz")
                                           .read_bytes()[:300])
    nib.save(nib.Nifti1Image(np.zeros((20, 20), np.float32), np.eye(4)), bad / "flat.nii.gz")
    nib.save(nib.Nifti1Image(np.zeros((20, 20, 20, 3), np.float32), np.eye(4)),
             bad / "rgb.nii.gz")
    out = tmp_path / "out"
    result = run_clara("infer", "-m", str(trained), "-i", str(bad),
                       str(tmp_path / "scans" / "scan_a.nii.gz"), "-o", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "segmented 1 input(s)" in result.stdout and "3 failed" in result.stdout
    assert "Traceback" not in result.stderr
    assert "truncated.nii.gz" in result.stderr and "flat.nii.gz" in result.stderr
    assert "rgb.nii.gz: ClaraError" in result.stderr and "3 channel(s)" in result.stderr
    assert os.listdir(out) == ["scan_a_seg.nii.gz"]


def test_dicom_series_and_datalist_inputs(trained, tmp_path):
    import pydicom
    import SimpleITK as sitk
    from pydicom.data import get_testdata_file

    series = tmp_path / "dicom" / "ct_series"
    series.mkdir(parents=True)
    source = get_testdata_file("CT_small.dcm")
    for k in range(6):
        ds = pydicom.dcmread(source)
        ds.ImagePositionPatient = [*ds.ImagePositionPatient[:2],
                                   float(ds.ImagePositionPatient[2]) + 2.0 * k]
        ds.InstanceNumber, ds.SOPInstanceUID = k + 1, f"{ds.SOPInstanceUID}.{k + 1}"
        ds.save_as(series / f"s{k}.dcm")
    new_scans(tmp_path / "scans")
    (tmp_path / "list.json").write_text(json.dumps(
        {"testing": [{"image": "scans/scan_b.nii.gz"}], "validation": []}))
    out = tmp_path / "out"
    result = run_clara("infer", "-m", str(trained), "-i", str(series),
                       str(tmp_path / "list.json"), "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(os.listdir(out)) == ["ct_series_seg.nii.gz", "scan_b_seg.nii.gz"]
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(series)))
    dicom = reader.Execute()
    seg = sitk.ReadImage(str(out / "ct_series_seg.nii.gz"))
    assert seg.GetSize() == dicom.GetSize()
    np.testing.assert_allclose(seg.GetSpacing(), dicom.GetSpacing(), rtol=1e-5)
    np.testing.assert_allclose(seg.GetOrigin(), dicom.GetOrigin(), atol=1e-3)
    np.testing.assert_allclose(seg.GetDirection(), dicom.GetDirection(), atol=1e-5)


def test_usage_errors(trained, tmp_path):
    missing = run_clara("infer", "-m", str(trained), "-i", str(tmp_path / "nothing.nii.gz"),
                        "-o", str(tmp_path / "out"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    parts = run_clara("infer", "-m", str(trained), "-i", str(tmp_path), "-o",
                      str(tmp_path / "out"), "--num-parts", "2", "--part-id", "2")
    assert parts.returncode == 2 and "--part-id 2" in parts.stderr
    new_scans(tmp_path / "scans")
    no_weights = run_clara("infer", "-m", str(trained), "-i", str(tmp_path / "scans"), "-o",
                           str(tmp_path / "out"), "--checkpoint", "nothing.weights.h5")
    assert no_weights.returncode == 2 and "does not exist" in no_weights.stderr
    window = run_clara("infer", "-m", str(trained), "-i", str(tmp_path / "scans"), "-o",
                       str(tmp_path / "out"), "--roi-size", "16", "16", "16",
                       "--sw-batch-size", "2048")
    assert window.returncode == 2 and "Traceback" not in window.stderr
    assert "--sw-batch-size 2048" in window.stderr and "[1, 1024]" in window.stderr
    from pydicom.data import get_testdata_file

    one = run_clara("infer", "-m", str(trained), "-i", get_testdata_file("CT_small.dcm"), "-o",
                    str(tmp_path / "out"))
    assert one.returncode == 2 and "is one DICOM file: give the folder" in one.stderr


@pytest.mark.slow
def test_export_formats_others_can_run(trained, tmp_path):
    import keras
    import onnxruntime

    onnx_path = tmp_path / "seg.onnx"
    out = run_clara("export", "-m", str(trained), "--format", "onnx", "-o", str(onnx_path),
                    "--input-shape", "16", "16", "16")
    assert out.returncode == 0, out.stdout + out.stderr
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).normal(size=(1, 16, 16, 16, 1)).astype(np.float32)
    onnx_out = session.run(None, {session.get_inputs()[0].name: x})[0]
    assert onnx_out.shape == (1, 16, 16, 16, 2)

    keras_path = tmp_path / "seg.keras"
    out = run_clara("export", "-m", str(trained), "--format", "keras", "-o", str(keras_path))
    assert out.returncode == 0, out.stderr
    np.testing.assert_allclose(keras.models.load_model(keras_path)(x), onnx_out, atol=1e-4)

    again = run_clara("export", "-m", str(trained), "--format", "onnx", "-o", str(onnx_path),
                      "--input-shape", "16", "16", "16")
    assert again.returncode == 2 and "--force" in again.stderr
    forced = run_clara("export", "-m", str(trained), "--format", "onnx", "-o", str(onnx_path),
                       "--input-shape", "24", "24", "24", "--force")
    assert forced.returncode == 0, forced.stderr
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1:] == [24, 24, 24, 1]  # the batch stays free
    no_shape = run_clara("export", "-m", str(trained), "--format", "onnx", "-o",
                         str(tmp_path / "x.onnx"))  # free batch and spatial axes
    assert no_shape.returncode == 0 and "any spatial size" in no_shape.stdout, no_shape.stderr


def test_sdk_validate_form_segments_without_labels(trained, tmp_path):
    """The SDK's infer.sh: clara validate with output_infer_result and no validation."""
    mmar = tmp_path / "mmar"
    shutil.copytree(trained, mmar)
    new_scans(mmar / "data" / "new")
    listing = json.loads((mmar / "data" / "dataset.json").read_text())
    listing["testing"] = [{"image": f"new/{n}.nii.gz"} for n in ("scan_a", "scan_b")]
    (mmar / "data" / "dataset.json").write_text(json.dumps(listing))
    (mmar / "config" / "config_validation.json").write_text(json.dumps({
        "DATA_LIST_KEY": "testing",
        "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}},
        "model_loader": {"name": "CheckpointLoader",
                         "args": {"checkpoint_dir": "{MMAR_CKPT_DIR}"}},
        "pre_transforms": [{"name": "LoadNifti", "args": {"fields": ["image"]}},
                           {"name": "ConvertToChannelsFirst", "args": {"fields": ["image"]}}],
        "post_transforms": [{"name": "ArgmaxAcrossChannels", "args": {"fields": "model"}}],
        "label_transforms": [{"name": "LoadNifti", "args": {"fields": "label"}},
                             {"name": "ConvertToChannelsFirst", "args": {"fields": ["label"]}}],
        "val_metrics": [{"name": "ComputeAverageDice",
                         "args": {"name": "mean_dice", "field": "model", "label_field": "label",
                                  "is_key_metric": True}}],
        "writers": [{"name": "WriteNifti", "args": {"field": "model", "dtype": "uint8",
                                                    "write_path": "eval/preds"}}]}))
    # the SDK's commands/infer.sh: one --set, several pairs; the config's DATA_LIST_KEY
    # picks the unlabelled cases, its label_transforms are not run; MMAR_CKPT_DIR absolute
    infer = run_clara("validate", "-m", str(mmar), "-c", "config/config_validation.json",
                      "-e", "config/environment.json", "--set", "output_infer_result=true",
                      "do_validation=false", f"MMAR_CKPT_DIR={mmar / 'models'}", cwd=str(tmp_path))
    assert infer.returncode == 0, infer.stdout + infer.stderr
    assert sorted(os.listdir(mmar / "eval" / "preds")) == ["scan_a_model.nii.gz",
                                                           "scan_b_model.nii.gz"]
    assert "mean_dice" not in infer.stdout
    # commands/validate.sh; the repeated-flag form and --key keep working
    validate = run_clara("validate", "-m", str(mmar), "--key", "validation",
                         "--set", "output_infer_result=false", "--set", "do_validation=true")
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "mean_dice:" in validate.stdout and "wrote" not in validate.stdout


def test_simpleitk_formats_are_segmented_on_their_own_grid(trained, tmp_path):
    import SimpleITK as sitk

    new_scans(tmp_path / "scans")
    source = sitk.ReadImage(str(tmp_path / "scans" / "scan_b.nii.gz"))
    sitk.WriteImage(source, str(tmp_path / "scan_b.mha"))
    out = tmp_path / "out"
    result = run_clara("infer", "-m", str(trained), "-i", str(tmp_path / "scan_b.mha"),
                       "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    seg = sitk.ReadImage(str(out / "scan_b_seg.nii.gz"))
    assert seg.GetSize() == source.GetSize()
    np.testing.assert_allclose(seg.GetSpacing(), source.GetSpacing(), rtol=1e-5)
    np.testing.assert_allclose(seg.GetOrigin(), source.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(seg.GetDirection(), source.GetDirection(), atol=1e-5)


def test_one_loader_of_a_runs_model_for_infer_export_and_checkpoint_loader(tmp_path):
    import keras

    from clara_core.builtins.model_loaders import CheckpointLoader
    from clara_core.errors import ClaraError
    from clara_core.mmar.run_folder import RunFolder
    from clara_core.mmar.trained_model import load_trained_model
    from clara_core.workflow.export import trained_model

    folder = RunFolder(str(tmp_path / "models"))
    for load in (lambda: load_trained_model(folder), lambda: trained_model(folder),
                 lambda: CheckpointLoader(str(tmp_path / "models")).load(None)):
        with pytest.raises(ClaraError, match="No trained model in .*model_final.keras is "
                                             "written when clara train finishes"):
            load()
    os.makedirs(folder.path)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.save(folder.keras_model)
    with pytest.raises(ClaraError, match="--weights best: the weights file .*model_final"):
        trained_model(folder)  # best falls back to final, which is missing too
    model.save_weights(folder.weights("final"))
    x = np.ones((1, 4), np.float32)
    for loaded in (load_trained_model(folder), trained_model(folder, "final"),
                   CheckpointLoader(folder.path, "best").load(None)):
        np.testing.assert_allclose(loaded(x), model(x))
    with pytest.raises(ClaraError, match="CheckpointLoader checkpoint latest: .*choose one "
                                         "of best, final, latest"):
        CheckpointLoader(folder.path, "latest").load(None)


def test_a_datalist_item_may_list_one_file_per_channel(tmp_path):
    from clara_core.workflow.infer import expand_inputs

    for name in ("p1_0000", "p1_0001", "p2_t2", "p2_adc", "p3_0000"):
        (tmp_path / f"{name}.nii.gz").write_bytes(b"")
    (tmp_path / "cases.json").write_text(json.dumps({"testing": [
        {"image": ["p1_0000.nii.gz", "p1_0001.nii.gz"]}, {"image": ["p2_t2.nii.gz", "p2_adc.nii.gz"]},
        {"image": ["p3_0000.nii.gz"]}]}))
    items = expand_inputs([str(tmp_path / "cases.json")])
    assert [i.name for i in items] == ["p1", "p2_t2", "p3_0000"]  # outputs p1_seg.nii.gz, ...
    assert items[0].image == [str(tmp_path / "p1_0000.nii.gz"), str(tmp_path / "p1_0001.nii.gz")]
    assert items[2].image == str(tmp_path / "p3_0000.nii.gz") and not items[2].files


def test_a_segmentation_goes_back_to_the_datasets_label_values():
    from clara_transforms_basic.label import MapLabelValue

    from clara_core.workflow.infer import label_values, segmentation_dtype

    chain = [MapLabelValue("label", [0, 255], [0, 1])]
    assert label_values(chain, np.array([[0, 1, 1]], np.uint8)).tolist() == [[0, 255, 255]]
    assert segmentation_dtype(chain) == "uint8"
    # values above 255 need a wider type; two renumberings are undone last first
    wide = [MapLabelValue("label", [0, 500, 1000], [0, 1, 2]), MapLabelValue("label", [2], [1])]
    assert label_values(wide, np.array([0, 1], np.uint8)).tolist() == [0, 1000]
    assert segmentation_dtype(wide) == "uint16"
    assert segmentation_dtype([MapLabelValue("label", [-1, 0], [0, 1])]) == "int32"
    # region channels painted back into one label map (nnU-Net's regions_class_order)
    from clara_transforms_basic.label import ConvertToMultiChannelBasedOnLabel

    regions = [ConvertToMultiChannelBasedOnLabel("label", [[1, 2, 3], [2, 3], [3]],
                                                 regions_class_order=[1, 2, 3])]
    channels = np.array([[1, 1, 1, 0], [0, 1, 1, 0], [0, 0, 1, 0]], np.uint8)
    assert label_values(regions, channels).tolist() == [[1, 2, 3, 0]]
