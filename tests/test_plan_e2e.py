"""clara plan end to end: generated datasets planned, checked, trained and inferred; each
dataset problem named before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from conftest import run_clara


def make_volumes(root: Path, cases: int = 4, shape=(20, 24, 12), spacing=(0.8, 0.8, 2.5),
                 offset=-1000.0, scale=1000.0, modality="CT", validation: int = 0) -> Path:
    """Small NIfTI cases: a bright box (label 1) and a dim one (label 2) in noise, with
    ``spacing`` and intensities ``offset + scale * x``; an MSD-style dataset.json."""
    for sub in ("imagesTr", "labelsTr"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(cases):
        rng = np.random.default_rng(i)
        label = np.zeros(shape, np.uint8)
        c = [int(rng.integers(s // 3, s - s // 3)) for s in shape]
        lo = [max(0, x - max(2, s // 5)) for x, s in zip(c, shape, strict=True)]
        label[lo[0]:c[0] + 3, lo[1]:c[1] + 3, lo[2]:c[2] + 2] = 1
        label[1:4, 1:5, 1:3] = 2
        image = offset + scale * (label * 0.8 + rng.normal(0, 0.1, shape))
        affine = np.diag([*spacing, 1.0])
        nib.save(nib.Nifti1Image(image.astype(np.float32), affine), root / "imagesTr" / f"c{i}.nii.gz")
        nib.save(nib.Nifti1Image(label, affine), root / "labelsTr" / f"c{i}.nii.gz")
        items.append({"image": f"./imagesTr/c{i}.nii.gz", "label": f"./labelsTr/c{i}.nii.gz"})
    data = {"modality": {"0": modality}, "labels": {"0": "background", "1": "organ", "2": "spot"},
            "training": items[: cases - validation]}
    if validation:
        data["validation"] = items[cases - validation:]
    (root / "dataset.json").write_text(json.dumps(data))
    return root / "dataset.json"


def make_pngs(root: Path, sizes=((40, 52), (48, 44), (36, 60), (44, 48)),
              disc_value: int = 1) -> Path:
    """RGB PNG frames of different sizes with a bright disc (label ``disc_value``)."""
    import SimpleITK as sitk

    (root / "img").mkdir(parents=True)
    (root / "seg").mkdir()
    items = []
    for i, (h, w) in enumerate(sizes):
        yy, xx = np.mgrid[:h, :w]
        disc = ((yy - h / 2) ** 2 + (xx - w / 3) ** 2) < (min(h, w) / 4) ** 2
        rgb = np.random.default_rng(i).integers(0, 80, (h, w, 3))
        rgb[disc] += 150
        sitk.WriteImage(sitk.GetImageFromArray(rgb.astype(np.uint8), isVector=True),
                        str(root / "img" / f"f{i}.png"))
        sitk.WriteImage(sitk.GetImageFromArray((disc * disc_value).astype(np.uint8)),
                        str(root / "seg" / f"f{i}.png"))
        items.append({"image": f"img/f{i}.png", "label": f"seg/f{i}.png"})
    (root / "data.json").write_text(json.dumps({
        "training": items, "labels": {"0": "background", str(disc_value): "disc"}}))
    return root / "data.json"


def plan(dataset: Path, mmar: Path, *extra: str):
    out = run_clara("plan", "-d", str(dataset), "-o", str(mmar), "--no-progress", *extra)
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def test_a_ct_volume_set_is_planned_checked_trained_and_inferred(tmp_path):
    dataset = make_volumes(tmp_path / "ct")
    mmar = tmp_path / "mmar"
    out = plan(dataset, mmar, "--epochs", "1", "--folds", "2", "--search")
    assert "CT: clip to the foreground's" in out.stdout and "anisotropic" not in out.stdout
    data = json.loads(dataset.read_text())
    del data["modality"]  # without channel names, air at -1000 HU says CT
    (tmp_path / "ct" / "nameless.json").write_text(json.dumps(data))
    nameless = plan(tmp_path / "ct" / "nameless.json", tmp_path / "nameless")
    assert "(CT, inferred)" in nameless.stdout and "CT: clip" in nameless.stdout
    planned = json.loads((mmar / "plan" / "plan.json").read_text())
    assert planned["target_spacing"]["value"] == [0.8, 0.8, 2.5]
    assert planned["topology"]["value"]["kernels"][0] == [3, 3, 1]
    fingerprint = json.loads((mmar / "plan" / "fingerprint.json").read_text())
    assert fingerprint["cases"][0]["spacing"] == [0.8, 0.8, 2.5]
    assert fingerprint["foreground_intensity"][0]["mean"] > -500
    splits = json.loads((mmar / "plan" / "splits.json").read_text())
    assert len(splits) == 2 and sorted(splits[0]["val"] + splits[1]["val"]) == ["c0", "c1", "c2", "c3"]
    train = json.loads((mmar / "config" / "config_train.json").read_text())
    assert train["search"][0]["args"] == ["learning_rate"]
    widths = train["train"]["model"]["search"][0]["targets"]
    assert [w[0][0] for w in widths] == [4, 8, 16]  # the planned width halved and doubled
    shared = [t for t in train["train"]["pre_transforms"] if "search" in t or "apply" in t]
    assert [t.get("apply") for t in shared] == [None, {"probability": "augmentProbability"}]
    assert run_clara("config", "check", "-m", str(mmar)).returncode == 0
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert "mean_dice" in (mmar / "models" / "metrics.jsonl").read_text()
    validated = run_clara("validate", "-m", str(mmar))
    assert validated.returncode == 0 and "mean_dice:" in validated.stdout, validated.stderr[-2000:]
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(tmp_path / "ct" / "imagesTr" / "c3.nii.gz"),
                         "-o", str(tmp_path / "segs"), "--no-progress")
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    seg = nib.load(tmp_path / "segs" / "c3_seg.nii.gz")
    assert seg.shape == (20, 24, 12) and np.allclose(seg.header.get_zooms(), (0.8, 0.8, 2.5))
    exported = run_clara("export", "-m", str(mmar), "--format", "keras")
    assert exported.returncode == 0, exported.stderr[-2000:]


def test_a_png_set_of_varying_frame_sizes_trains_a_2d_network(tmp_path):
    mmar = tmp_path / "mmar"
    out = plan(make_pngs(tmp_path / "png"), mmar, "--epochs", "1", "--folds", "2")
    assert "dimensionality: 2d" in out.stdout and "RGB" in out.stdout
    train = json.loads((mmar / "config" / "config_train.json").read_text())
    assert [t["name"] for t in train["train"]["pre_transforms"][:3]] == [
        "LoadPng", "ConvertToChannelsFirst", "ScaleIntensityRange"]
    assert len(train["train"]["model"]["args"]["strides"][0]) == 2
    assert run_clara("config", "check", "-m", str(mmar)).returncode == 0
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(tmp_path / "png" / "img"), "-o",
                         str(tmp_path / "segs"), "--no-progress")  # a folder of PNG frames
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "segs").iterdir()) == [
        f"f{i}_seg.png" for i in range(4)]  # a picture's segmentation: a PNG of its pixels
    import SimpleITK as sitk

    seg = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "segs" / "f2_seg.png")))
    assert seg.shape == (36, 60) and set(np.unique(seg)) <= {0, 1}


def make_slices(root: Path, affine_of, thick_axis: int | None = None) -> Path:
    """2D slices of a bright disc in noise, as 2D NIfTI files (with the 4x4 affine
    ``affine_of(i)``) or, with ``thick_axis``, as volumes one voxel thick along it."""
    root.mkdir()
    items = []
    for i, (h, w) in enumerate(((40, 52), (48, 44), (36, 60), (44, 48))):
        yy, xx = np.mgrid[:h, :w]
        disc = ((yy - h / 2) ** 2 + (xx - w / 3) ** 2) < (min(h, w) / 4) ** 2
        image = np.random.default_rng(i).normal(0, 1, (h, w)) + 3 * disc
        if thick_axis is not None:
            image, disc = np.expand_dims(image, thick_axis), np.expand_dims(disc, thick_axis)
        nib.save(nib.Nifti1Image(image.astype(np.float32), affine_of(i)), root / f"s{i}.nii.gz")
        nib.save(nib.Nifti1Image(disc.astype(np.uint8), affine_of(i)), root / f"s{i}_seg.nii.gz")
        items.append({"image": f"s{i}.nii.gz", "label": f"s{i}_seg.nii.gz"})
    (root / "data.json").write_text(json.dumps({"training": items, "modality": {"0": "MRI"},
                                                "labels": {"0": "background", "1": "disc"}}))
    return root / "data.json"


def plan_train_infer(dataset: Path, tmp_path: Path, scan: Path) -> tuple[str, nib.Nifti1Image]:
    """``dataset`` planned (1 epoch, 2 folds) and trained; ``scan`` inferred: what plan
    printed and the segmentation."""
    mmar = tmp_path / "mmar"
    out = plan(dataset, mmar, "--epochs", "1", "--folds", "2")
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(scan), "-o",
                         str(tmp_path / "segs"), "--no-progress")
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    return out.stdout, nib.load(tmp_path / "segs" / f"{scan.name[:-7]}_seg.nii.gz")


def test_a_set_of_2d_nifti_slices_trains_a_2d_network_and_infers_on_their_grid(tmp_path):
    # slices as SimpleITK and other tools write them: 2D NIfTI files with a 4x4 affine
    affine = np.diag([0.7, 0.7, 1.0, 1.0])
    affine[:2, 3] = [-30.0, 12.0]
    dataset = make_slices(tmp_path / "slices", lambda i: affine)
    printed, seg = plan_train_infer(dataset, tmp_path, tmp_path / "slices" / "s1.nii.gz")
    assert "dimensionality: 2d" in printed
    assert seg.shape == (48, 44)
    np.testing.assert_allclose(seg.affine, affine)


def test_slices_stored_one_voxel_thick_are_planned_2d_and_segmented_on_their_grid(tmp_path):
    # 2D slices as converters write them: 1 x H x W volumes, in-plane spacings that differ
    def affine_of(i):
        affine = np.diag([4.0, 0.6 + 0.1 * i, 0.7, 1.0])
        affine[:3, 3] = [10.0 * i, -30.0, 12.0]
        return affine

    dataset = make_slices(tmp_path / "slices", affine_of, thick_axis=0)
    printed, seg = plan_train_infer(dataset, tmp_path, tmp_path / "slices" / "s1.nii.gz")
    assert "one_slice_axis: 0" in printed and "dimensionality: 2d" in printed
    assert "resample: True" in printed
    assert seg.shape == (1, 48, 44)
    np.testing.assert_allclose(seg.affine, affine_of(1))
    volume = tmp_path / "volume.nii.gz"  # a volume given to the slice model: a message
    nib.save(nib.Nifti1Image(np.zeros((3, 48, 44), np.float32), affine_of(1)), volume)
    refused = run_clara("infer", "-m", str(tmp_path / "mmar"), "-i", str(volume), "-o",
                        str(tmp_path / "segs"), "--no-progress")
    assert refused.returncode == 1 and "has 3 voxels along axis 0" in refused.stdout + \
        refused.stderr, refused.stdout + refused.stderr


def test_masks_stored_as_0_and_255_are_two_classes(tmp_path):
    mmar = tmp_path / "mmar"
    out = plan(make_pngs(tmp_path / "png", disc_value=255), mmar, "--epochs", "1")
    assert "the label values [0, 255] are read as classes 0 to 1" in out.stdout
    train = json.loads((mmar / "config" / "config_train.json").read_text())
    assert train["train"]["model"]["args"]["num_classes"] == 2
    mapped = [t["args"] for t in train["train"]["pre_transforms"] if t["name"] == "MapLabelValue"]
    assert mapped == [{"fields": "label", "orig_labels": [0, 255], "target_labels": [0, 1]}]
    checked = run_clara("config", "check", "-m", str(mmar))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_resampled_mr_volumes_with_their_own_validation_list(tmp_path):
    root = tmp_path / "mr"
    make_volumes(root, cases=5, shape=(16, 16, 16), spacing=(1.0, 1.0, 1.0), offset=200.0,
                 scale=300.0, modality="MRI", validation=1)
    img = nib.load(root / "imagesTr" / "c0.nii.gz")  # one case on another spacing
    nib.save(nib.Nifti1Image(np.asarray(img.dataobj), np.diag([1.5, 1.5, 1.5, 1])),
             root / "imagesTr" / "c0.nii.gz")
    lab = nib.load(root / "labelsTr" / "c0.nii.gz")
    nib.save(nib.Nifti1Image(np.asarray(lab.dataobj), np.diag([1.5, 1.5, 1.5, 1])),
             root / "labelsTr" / "c0.nii.gz")
    mmar = tmp_path / "mmar"
    out = plan(root / "dataset.json", mmar, "--epochs", "1")
    assert "the dataset's own 1 validation case(s)" in out.stdout
    assert "resample: True" in out.stdout and "per-image z-score" in out.stdout
    names = [t["name"] for t in json.loads((mmar / "config" / "config_train.json").read_text())
             ["train"]["pre_transforms"]]
    assert names.count("ScaleBySpacing") == 2
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(root / "imagesTr" / "c0.nii.gz"),
                         "-o", str(tmp_path / "segs"), "--no-progress")
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    seg = nib.load(tmp_path / "segs" / "c0_seg.nii.gz")  # back on the case's own 1.5 mm grid
    assert seg.shape == (16, 16, 16) and np.allclose(seg.header.get_zooms(), (1.5, 1.5, 1.5))
    validated = run_clara("validate", "-m", str(mmar))  # labels resampled like the images
    assert validated.returncode == 0 and "mean_dice:" in validated.stdout, validated.stderr[-2000:]


def test_an_nnunet_v2_folder_is_read(tmp_path):
    root = tmp_path / "Dataset001_Box"
    make_volumes(root, cases=3, shape=(16, 16, 16), spacing=(1.0, 1.0, 1.0))
    for p in (root / "imagesTr").iterdir():
        p.rename(p.with_name(p.name.replace(".nii.gz", "_0000.nii.gz")))
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "CT"}, "labels": {"background": 0, "organ": 1, "spot": 2},
        "numTraining": 3, "file_ending": ".nii.gz"}))
    out = plan(root, tmp_path / "mmar")
    assert "fold 0 of 3" in out.stdout
    datalist = json.loads((tmp_path / "mmar" / "config" / "datalist.json").read_text())
    assert datalist["training"][0]["image"].endswith("_0000.nii.gz")
    assert run_clara("config", "check", "-m", str(tmp_path / "mmar")).returncode == 0


def make_channel_files(root: Path, cases: int = 5, shape=(16, 16, 16)) -> Path:
    """An nnU-Net v2 folder of two channels in separate files: CT (``_0000``) and MR
    (``_0001``), the foreground visible in both (bright in CT, dark in MR)."""
    make_volumes(root, cases=cases, shape=shape, spacing=(1.0, 1.0, 1.0))
    for i in range(cases):
        ct = root / "imagesTr" / f"c{i}.nii.gz"
        ct.rename(root / "imagesTr" / f"c{i}_0000.nii.gz")
        label = np.asarray(nib.load(root / "labelsTr" / f"c{i}.nii.gz").dataobj)
        noise = np.random.default_rng(100 + i).normal(0, 20, shape)
        mr = 600.0 - 400.0 * (label > 0) + noise
        nib.save(nib.Nifti1Image(mr.astype(np.float32), np.eye(4)),
                 root / "imagesTr" / f"c{i}_0001.nii.gz")
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "CT", "1": "MR"}, "labels": {"background": 0, "organ": 1,
                                                            "spot": 2},
        "numTraining": cases, "file_ending": ".nii.gz"}))
    return root


def test_channels_in_separate_files_are_planned_trained_validated_and_inferred(tmp_path):
    root = make_channel_files(tmp_path / "Dataset007_TwoChannels")
    mmar = tmp_path / "mmar"
    out = plan(root, mmar, "--epochs", "2", "--folds", "5")
    assert "2 channel(s) (CT, MR)" in out.stdout and "per_channel: ct, zscore_nonzero" in out.stdout
    datalist = json.loads((mmar / "config" / "datalist.json").read_text())
    assert datalist["training"][0]["image"] == [f"imagesTr/{datalist['training'][0]['label'][9:-7]}"
                                                f"_000{c}.nii.gz" for c in (0, 1)]
    fingerprint = json.loads((mmar / "plan" / "fingerprint.json").read_text())
    assert {c["channels"] for c in fingerprint["cases"]} == {2}
    ct, mr = fingerprint["foreground_intensity"]
    assert ct["mean"] > -500 and mr["mean"] < 400  # each channel's own statistics
    train = json.loads((mmar / "config" / "config_train.json").read_text())
    norm = [(t["name"], t["args"].get("channels")) for t in train["train"]["pre_transforms"]
            if t["name"] in ("ScaleIntensityRange", "NormalizeNonzeroIntensities")]
    assert norm == [("ScaleIntensityRange", [0]), ("NormalizeNonzeroIntensities", [1])]
    checked = run_clara("config", "check", "-m", str(mmar))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert "mean_dice" in (mmar / "models" / "metrics.jsonl").read_text()
    validated = run_clara("validate", "-m", str(mmar))
    assert validated.returncode == 0 and "mean_dice:" in validated.stdout, validated.stderr[-2000:]
    cases = root / "cases.json"
    cases.write_text(json.dumps({"testing": [{"image": [f"imagesTr/c3_000{c}.nii.gz"
                                                        for c in (0, 1)]}]}))
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(cases), "-o", str(tmp_path / "segs"),
                         "--no-progress")
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    assert nib.load(tmp_path / "segs" / "c3_seg.nii.gz").shape == (16, 16, 16)
    one = run_clara("infer", "-m", str(mmar), "-i", str(root / "imagesTr" / "c3_0000.nii.gz"),
                    "-o", str(tmp_path / "one"), "--no-progress")
    assert one.returncode == 1 and "holds 1 channel(s) and the model takes 2" in one.stderr
    assert "give with -i their folder" in one.stderr
    # a folder named as nnU-Net names channel files: one case per <case>_XXXX group
    folder = run_clara("infer", "-m", str(mmar), "-i", str(root / "imagesTr"), "-o",
                       str(tmp_path / "folder"), "--no-progress")
    assert folder.returncode == 0, folder.stderr[-2000:]
    cases = sorted(p.name for p in (root / "labelsTr").glob("*.nii.gz"))
    assert sorted(p.name for p in (tmp_path / "folder").iterdir()) == [
        n.replace(".nii.gz", "_seg.nii.gz") for n in cases]
    # the planned MMAR's own datalist: its paths are under DATA_ROOT, not config/
    own = run_clara("infer", "-m", str(mmar), "-i", str(mmar / "config" / "datalist.json"),
                    "--key", "validation", "-o", str(tmp_path / "own"), "--no-progress")
    assert own.returncode == 0, own.stderr[-2000:]
    assert len(list((tmp_path / "own").glob("*_seg.nii.gz"))) == len(datalist["validation"])


def make_regions(root: Path, cases: int = 5) -> Path:
    """An nnU-Net v2 folder with region-based labels, as its BraTS conversion: oedema (1)
    around a non-enhancing core (2) around an enhancing centre (3); the regions whole
    tumour [1, 2, 3], tumour core [2, 3] and enhancing tumour 3 overlap."""
    for sub in ("imagesTr", "labelsTr", "imagesTs"):
        (root / sub).mkdir(parents=True)
    grid = np.indices((20, 20, 20)).astype(np.float32)
    for i in range(cases + 1):
        rng = np.random.default_rng(40 + i)
        r = np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, 10 + rng.integers(-3, 4, 3),
                                                     strict=True)))
        label = np.select([r < 2.5, r < 4.5, r < 7.0], [3, 2, 1], 0).astype(np.uint8)
        image = np.select([label == 3, label == 2, label == 1], [900.0, 600.0, 350.0], 150.0)
        image = (image + rng.normal(0, 40, label.shape)).astype(np.float32)
        images = "imagesTs" if i == cases else "imagesTr"
        nib.save(nib.Nifti1Image(image, np.eye(4)), root / images / f"b{i}_0000.nii.gz")
        if i < cases:
            nib.save(nib.Nifti1Image(label, np.eye(4)), root / "labelsTr" / f"b{i}.nii.gz")
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "T1Gd"}, "labels": {"background": 0, "whole tumor": [1, 2, 3],
                                                   "tumor core": [2, 3], "enhancing tumor": 3},
        "regions_class_order": [1, 2, 3], "numTraining": cases, "file_ending": ".nii.gz"}))
    return root


def test_region_based_labels_train_sigmoid_outputs_per_region(tmp_path):
    root = make_regions(tmp_path / "Dataset009_Regions")
    mmar = tmp_path / "mmar"
    out = run_clara("plan", "-d", "Dataset009_Regions", "-o", "mmar", "--epochs", "15",
                    "--no-progress", cwd=str(tmp_path))  # relative paths, as typed
    assert out.returncode == 0, out.stdout + out.stderr
    assert "one sigmoid output per region" in out.stdout, out.stdout
    train = json.loads((mmar / "config" / "config_train.json").read_text())
    assert train["train"]["model"]["args"]["final_activation"] == "sigmoid"
    assert train["train"]["model"]["args"]["num_classes"] == 3
    convert = [t for t in train["train"]["pre_transforms"]
               if t["name"] == "ConvertToMultiChannelBasedOnLabel"]
    assert convert[0]["args"]["labels"] == [[1, 2, 3], [2, 3], [3]]
    assert train["train"]["loss"]["args"]["sigmoid"] is True
    checked = run_clara("config", "check", "-m", str(mmar))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    last = json.loads((mmar / "models" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["mean_dice"] > 0.5, last  # the regions are learnt, not an argmax of them
    regions = json.loads((root / "dataset.json").read_text())["labels"]
    named = sorted(k for k in last if k.startswith("mean_dice_"))  # by region, not class0..
    assert named == sorted("mean_dice_" + n.replace(" ", "_") for n in regions
                           if n != "background"), named
    validated = run_clara("validate", "-m", str(mmar))
    assert validated.returncode == 0 and "mean_dice:" in validated.stdout, validated.stderr[-2000:]
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(root / "imagesTs"), "-o",
                         str(tmp_path / "segs"), "--no-progress")
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    seg = np.asarray(nib.load(tmp_path / "segs" / "b5_seg.nii.gz").dataobj)
    # the regions painted back into one label map in regions_class_order [1, 2, 3]
    assert seg.shape == nib.load(root / "imagesTs" / "b5_0000.nii.gz").shape, seg.shape
    assert set(np.unique(seg)) <= {0, 1, 2, 3} and (seg == 3).any() and (seg == 1).any()


def test_a_datalist_may_list_one_file_per_channel(tmp_path):
    root = make_channel_files(tmp_path / "ds", cases=3)
    items = [{"image": [f"imagesTr/c{i}_0000.nii.gz", f"imagesTr/c{i}_0001.nii.gz"],
              "label": f"labelsTr/c{i}.nii.gz"} for i in range(3)]
    (root / "datalist.json").write_text(json.dumps({"training": items,
                                                    "modality": {"0": "CT", "1": "MR"}}))
    mmar = tmp_path / "mmar"
    out = plan(root / "datalist.json", mmar, "--epochs", "1")
    assert "3 case(s), 3D, 2 channel(s) (CT, MR)" in out.stdout
    written = json.loads((mmar / "config" / "datalist.json").read_text())
    assert sorted(c["image"][1] for c in written["training"] + written["validation"]) == [
        f"imagesTr/c{i}_0001.nii.gz" for i in range(3)]
    splits = json.loads((mmar / "plan" / "splits.json").read_text())
    assert sorted(splits[0]["train"] + splits[0]["val"]) == ["c0", "c1", "c2"]
    checked = run_clara("config", "check", "-m", str(mmar))
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("problem, message", [
    ("off_grid", "labels on another grid than their image: 1 case(s): c1 (image [16, 16, 16], "
                 "label [8, 16, 16])"),
    ("unknown_label", "label values [7] absent from 'labels' [0, 1, 2]: 1 case(s): c2"),
    ("soft_label", "label values that are not class numbers (soft or interpolated labels): "
                   "1 case(s): c1 (0.5, ...)"),
    ("channels", "mixed channel counts: most cases have 1: 1 case(s): c0 (2)"),
    ("dims", "mixed dimensionality (2D and 3D images): most cases have 3: 1 case(s): c0 (2)"),
    ("unreadable", "missing or unreadable files: 1 case(s): c3 ("),
    ("missing", "missing or unreadable files: 1 case(s): c3 (not found: "),
])
def test_each_dataset_problem_is_named_and_nothing_is_written(tmp_path, problem, message):
    root = tmp_path / "ds"
    dataset = make_volumes(root, cases=4, shape=(16, 16, 16), spacing=(1.0, 1.0, 1.0))
    lab = root / "labelsTr"
    if problem == "off_grid":
        nib.save(nib.Nifti1Image(np.zeros((8, 16, 16), np.uint8), np.eye(4)), lab / "c1.nii.gz")
    elif problem == "soft_label":  # a label resampled with linear interpolation
        soft = np.zeros((16, 16, 16), np.float32)
        soft[4:8, 4:8, 4:8], soft[8, 4:8, 4:8] = 1.0, 0.5
        nib.save(nib.Nifti1Image(soft, np.eye(4)), lab / "c1.nii.gz")
    elif problem == "unknown_label":
        nib.save(nib.Nifti1Image(np.full((16, 16, 16), 7, np.uint8), np.eye(4)), lab / "c2.nii.gz")
    elif problem == "channels":
        nib.save(nib.Nifti1Image(np.zeros((16, 16, 16, 2), np.float32), np.eye(4)),
                 root / "imagesTr" / "c0.nii.gz")
    elif problem == "dims":
        import SimpleITK as sitk

        data = json.loads(dataset.read_text())
        for sub, key in (("imagesTr", "image"), ("labelsTr", "label")):  # a 2D frame
            sitk.WriteImage(sitk.GetImageFromArray(np.zeros((16, 16), np.uint8)),
                            str(root / sub / "c0.png"))
            data["training"][0][key] = f"{sub}/c0.png"
        dataset.write_text(json.dumps(data))
    elif problem == "missing":
        (root / "imagesTr" / "c3.nii.gz").unlink()
    else:
        (root / "imagesTr" / "c3.nii.gz").write_bytes(b"not a nifti file")
    out = run_clara("plan", "-d", str(dataset), "-o", str(tmp_path / "mmar"), "--no-progress")
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert message in out.stderr and "nothing written" in out.stderr
    assert not (tmp_path / "mmar").exists()


def test_an_existing_mmar_is_kept_unless_forced(tmp_path):
    dataset = make_volumes(tmp_path / "ds", cases=3, shape=(16, 16, 16), spacing=(1.0, 1.0, 1.0))
    mmar = tmp_path / "mmar"
    plan(dataset, mmar, "--epochs", "3")
    again = run_clara("plan", "-d", str(dataset), "-o", str(mmar), "--epochs", "5")
    assert again.returncode == 2 and "already holds an MMAR" in again.stderr
    assert json.loads((mmar / "config" / "config_train.json").read_text())["epochs"] == 3
    plan(dataset, mmar, "--epochs", "5", "--force")
    assert json.loads((mmar / "config" / "config_train.json").read_text())["epochs"] == 5
    bad = run_clara("plan", "-d", str(dataset), "-o", str(tmp_path / "x"), "--fold", "4")
    assert bad.returncode == 2 and "--fold 4: choose a fold from 0 to 2" in bad.stderr


@pytest.mark.slow
def test_a_planned_mmar_trains_to_a_useful_dice_without_edits(tmp_path):
    """A dataset nobody tuned for (anisotropic CT-like volumes), planned with the defaults
    and trained as planned."""
    dataset = make_volumes(tmp_path / "ct", cases=8, shape=(40, 36, 16),
                           spacing=(0.7, 0.7, 3.0), validation=2)
    mmar = tmp_path / "mmar"
    plan(dataset, mmar)
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    rows = [json.loads(line) for line in (mmar / "models" / "metrics.jsonl").open()]
    assert rows[-1]["mean_dice"] > 0.7, rows[-1]


@pytest.mark.slow
def test_masks_stored_as_0_and_255_are_segmented_as_0_and_255(tmp_path):
    """The planned MMAR trains on classes 0/1; clara infer writes the dataset's own values."""
    import SimpleITK as sitk

    data = make_pngs(tmp_path / "png", disc_value=255)
    mmar = tmp_path / "mmar"
    plan(data, mmar, "--epochs", "10", "--folds", "2")
    trained = run_clara("train", "-m", str(mmar), "--no-progress")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    inferred = run_clara("infer", "-m", str(mmar), "-i", str(tmp_path / "png" / "img"), "-o",
                         str(tmp_path / "segs"), "--no-progress")
    assert inferred.returncode == 0, inferred.stderr[-2000:]
    for i in range(4):
        seg = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "segs" / f"f{i}_seg.png")))
        mask = sitk.GetArrayFromImage(sitk.ReadImage(str(tmp_path / "png" / "seg" / f"f{i}.png")))
        assert set(np.unique(seg)) == {0, 255}, np.unique(seg)
        overlap = 2 * ((seg == 255) & (mask == 255)).sum() / ((seg == 255).sum() + (mask == 255).sum())
        assert overlap > 0.8, (i, overlap)


@pytest.mark.slow
def test_search_writes_a_space_that_clara_automl_runs(tmp_path):
    dataset = make_volumes(tmp_path / "ds", cases=3, shape=(16, 16, 16), spacing=(1.0, 1.0, 1.0))
    mmar = tmp_path / "mmar"
    plan(dataset, mmar, "--epochs", "1", "--folds", "3", "--search")
    automl = json.loads((mmar / "config" / "config_automl.json").read_text())
    automl["controller"]["args"]["max_rounds"] = 2
    (mmar / "config" / "config_automl.json").write_text(json.dumps(automl))
    out = run_clara("automl", "-m", str(mmar), "--set", "run_id=s", "workers=cpu:cpu")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert (mmar / "automl" / "s").is_dir()
