"""The SDK's own example configs (``../shared/clara-v3-configs``) run as shipped.

The MMAR is built around copies of the files, never edited: our environment file
points DATA_ROOT/DATASET_JSON at generated CT-like NIfTI cases in the datalist's
form, ``custom/`` holds the seed's BYOC modules (``examples/byoc/custom``), and
the one other path, SaveAsNifti's ``out_dir`` (a folder on the SDK's machine), is
given with ``--set`` like an environment path.
"""

from __future__ import annotations

import json
import shutil

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from conftest import REPO, run_clara

SHIPPED = REPO.parent / "shared" / "clara-v3-configs"
TRAIN_CONFIGS = ["trn_base", "trn_base_AMP", "trn_BYOC_Arch_loss", "trn_BYOC_DataLoader"]
AFFINE = np.array([[-1.2, 0, 0, 90.0], [0, -1.2, 0, 80.0], [0, 0, 2.0, -40.0], [0, 0, 0, 1]])

pytestmark = pytest.mark.skipif(not SHIPPED.is_dir(), reason="../shared/clara-v3-configs absent")


def ct_case(rng):
    """A 48x48x32 CT-like volume (HU, 1.2 x 1.2 x 2 mm) with a spleen-like blob."""
    grid = np.indices((48, 48, 32), dtype=np.float32)
    centre = np.array([24, 22, 16]) + rng.integers(-4, 5, 3)
    organ = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, (9, 7, 5), strict=True)) < 1
    image = rng.normal(0, 20, organ.shape) + np.where(organ, 120.0, 20.0)
    return image.astype(np.int16), organ.astype(np.uint8)


@pytest.fixture(scope="module")
def mmar(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdk_mmar")
    shutil.copytree(SHIPPED, root / "config")
    shutil.copytree(REPO / "examples" / "byoc" / "custom", root / "custom")
    data = root / "data"
    (data / "npy").mkdir(parents=True)
    rng = np.random.default_rng(0)
    items, npy_items = [], []
    for i in range(5):
        image, label = ct_case(rng)
        for kind, array in (("image", image), ("label", label)):
            nib.save(nib.Nifti1Image(array, AFFINE), data / f"{kind}{i}.nii.gz")
            np.save(data / "npy" / f"{kind}{i}.npy", array)
        items.append({"image": f"image{i}.nii.gz", "label": f"label{i}.nii.gz"})
        npy_items.append({"image": f"npy/image{i}.npy", "label": f"npy/label{i}.npy"})
    for name, cases in (("dataset.json", items), ("dataset_npy.json", npy_items)):
        (data / name).write_text(json.dumps({"training": cases[:4], "validation": cases[4:]}))
    (root / "config" / "environment.json").write_text(json.dumps({
        "DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", "PROCESSING_TASK":
        "segmentation", "MMAR_EVAL_OUTPUT_PATH": "eval", "MMAR_CKPT_DIR": "models"}))
    return root


def args_for(mmar, name):
    extra = ["--set", f"train.pre_transforms.4.args.out_dir={mmar / 'debug'}",
             "--set", "DATASET_JSON=data/dataset_npy.json"] if name == "trn_BYOC_DataLoader" else []
    return ["-m", str(mmar), "-c", f"config/{name}.json", "-e", "config/environment.json",
            *extra]


def test_the_shipped_files_are_untouched(mmar):
    for path in SHIPPED.glob("trn_*.json"):
        assert (mmar / "config" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("name", TRAIN_CONFIGS)
def test_each_train_config_checks_and_trains(mmar, name, tmp_path):
    out = run_clara("config", "check", *args_for(mmar, name))
    assert out.returncode == 0, out.stdout + out.stderr
    ckpt = tmp_path / "models"
    out = run_clara("train", *args_for(mmar, name), "--no-progress", "--set", "epochs=1",
                    "--set", f"MMAR_CKPT_DIR={ckpt}")
    assert out.returncode == 0, out.stdout + out.stderr
    record = json.loads((ckpt / "metrics.jsonl").read_text().splitlines()[-1])
    assert np.isfinite(record["loss"]) and 0.0 <= record["mean_dice"] <= 1.0
    if name.startswith("trn_base"):  # NegLoss feeds the ComputeAverage metric "negloss"
        assert record["negloss"] < 0 and "stats: epoch 1/1" in out.stdout
    if name == "trn_BYOC_DataLoader":  # SaveAsNifti wrote the crops it saw
        saved = nib.load(mmar / "debug" / "image0_image.nii.gz")
        assert saved.shape == (64, 64, 64)


def test_the_shipped_mistake_is_reported_with_the_fix(mmar):
    out = run_clara("config", "check", *args_for(mmar, "trn_BYOC_transform"))
    assert out.returncode == 2
    assert "train.pre_transforms[4].args.a_offset: unknown argument 'a_offset'" in out.stderr
    assert "it accepts: fields, a_min, a_max" in out.stderr
    assert "missing required argument 'a_max'" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_validate_configs_infer_measure_and_write_on_the_input_grid(mmar):
    out = run_clara("train", *args_for(mmar, "trn_base"), "--no-progress", "--set", "epochs=1")
    assert out.returncode == 0, out.stdout + out.stderr
    out = run_clara("validate", *args_for(mmar, "config_validation_chpt"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "validated 1 case(s)" in out.stdout and "mean_dice_class1:" in out.stdout
    eval_dir = mmar / "eval"
    rows = (eval_dir / "mean_dice_class1_raw.csv").read_text().splitlines()
    assert rows[0] == "case,value" and rows[1].startswith("image4.nii.gz,")
    assert 0.0 <= float(rows[1].split(",")[1]) <= 1.0
    written = nib.load(eval_dir / "image4_model.nii.gz")
    source = nib.load(mmar / "data" / "image4.nii.gz")
    assert written.shape == source.shape and written.get_data_dtype() == np.uint8
    np.testing.assert_allclose(written.affine, source.affine, atol=1e-5)
    itk, itk_source = (sitk.ReadImage(str(p)) for p in (eval_dir / "image4_model.nii.gz",
                                                       mmar / "data" / "image4.nii.gz"))
    np.testing.assert_allclose(itk.GetSpacing(), itk_source.GetSpacing())
    np.testing.assert_allclose(itk.GetOrigin(), itk_source.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(itk.GetDirection(), itk_source.GetDirection(), atol=1e-6)
    for k in range(3):
        assert (eval_dir / f"image4_pred_class{k}.nii.gz").exists()
    chpt = out.stdout

    # config_validation.json's FrozenGraphModelLoader: a clear message, then the export
    out = run_clara("validate", *args_for(mmar, "config_validation"))
    assert out.returncode == 2 and "clara export" in out.stderr and "Traceback" not in out.stderr
    assert run_clara("export", "-m", str(mmar)).returncode == 0
    out = run_clara("validate", *args_for(mmar, "config_validation"))
    assert out.returncode == 0, out.stdout + out.stderr
    line = [s for s in chpt.splitlines() if "mean_dice_class1" in s]
    assert line and line[0] in out.stdout  # the same model, the same Dice
