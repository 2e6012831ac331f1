"""clara plan's dataset forms: MSD / nnU-Net v1 and SDK datalists, nnU-Net v2 folders."""

from __future__ import annotations

import json

import pytest

from clara_core.plan.dataset import PlanError, read_dataset
from clara_core.plan.writer import splits


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_the_sdk_form_keeps_validation_and_testing_lists(tmp_path):
    path = write(tmp_path / "d" / "datalist.json", {
        "training": [{"image": "a.nii", "label": "la.nii"}],
        "validation": [{"image": "b.nii", "label": "lb.nii"}],
        "testing": [{"image": "c.nii"}]})
    ds = read_dataset(str(path))
    assert [c.name for c in ds.validation] == ["b"] and ds.testing[0].item() == {"image": "c.nii"}
    assert ds.root == str(tmp_path / "d") and ds.labels is None


def test_nnunet_v2_labels_map_names_to_values(tmp_path):
    root = tmp_path / "Dataset002_Heart"
    write(root / "dataset.json", {"channel_names": {"0": "MRI"}, "file_ending": ".nii.gz",
                                  "labels": {"background": 0, "left atrium": 1}})
    for path in ("labelsTr/la_003.nii.gz", "imagesTr/la_003_0000.nii.gz"):
        (root / path).parent.mkdir(exist_ok=True)
        (root / path).write_bytes(b"")
    ds = read_dataset(str(root))
    assert ds.labels == {0: "background", 1: "left atrium"} and ds.modalities == ["MRI"]
    assert ds.training[0].image == "imagesTr/la_003_0000.nii.gz"


def nnunet_v2(root, cases, channels=("T2", "ADC"), test_cases=()):
    write(root / "dataset.json", {"channel_names": {str(i): m for i, m in enumerate(channels)},
                                  "labels": {"background": 0, "prostate": 1},
                                  "file_ending": ".nii.gz"})
    for sub, names, labelled in (("Tr", cases, True), ("Ts", test_cases, False)):
        (root / f"images{sub}").mkdir(exist_ok=True)
        for name in names:
            for c in range(len(channels)):
                (root / f"images{sub}" / f"{name}_{c:04d}.nii.gz").write_bytes(b"")
            if labelled:
                (root / "labelsTr").mkdir(exist_ok=True)
                (root / "labelsTr" / f"{name}.nii.gz").write_bytes(b"")
    return root


def test_nnunet_v2_channels_in_separate_files_are_one_case_each(tmp_path):
    root = nnunet_v2(tmp_path / "Dataset005_Prostate", ["p_01", "p_02"], test_cases=["p_09"])
    ds = read_dataset(str(root))
    assert ds.modalities == ["T2", "ADC"] and [c.name for c in ds.training] == ["p_01", "p_02"]
    assert ds.training[0].images == ("imagesTr/p_01_0000.nii.gz", "imagesTr/p_01_0001.nii.gz")
    assert ds.training[0].item() == {"image": ["imagesTr/p_01_0000.nii.gz",
                                               "imagesTr/p_01_0001.nii.gz"],
                                     "label": "labelsTr/p_01.nii.gz"}
    assert ds.testing[0].name == "p_09" and len(ds.testing[0].images) == 2


def test_missing_channel_files_are_listed_per_case(tmp_path):
    root = nnunet_v2(tmp_path / "ds", ["a", "b", "c"], test_cases=["t"])
    (root / "imagesTr" / "b_0001.nii.gz").unlink()
    (root / "imagesTr" / "c_0000.nii.gz").unlink()
    (root / "imagesTs" / "t_0001.nii.gz").unlink()
    with pytest.raises(PlanError) as raised:
        read_dataset(str(root))
    message = str(raised.value)
    assert ("missing image files: 3 case(s): b (imagesTr/b_0001.nii.gz), c "
            "(imagesTr/c_0000.nii.gz), t (imagesTs/t_0001.nii.gz)") in message
    assert "<case>_0000.nii.gz to <case>_0001.nii.gz, one per channel_names entry " \
           "(0: T2, 1: ADC)" in message and "nothing written" in message


def test_a_datalist_image_may_list_one_file_per_channel(tmp_path):
    path = write(tmp_path / "d" / "datalist.json", {"modality": {"0": "CT", "1": "PET"},
        "training": [{"image": ["im/a_ct.nii.gz", "./im/a_pet.nii.gz"], "label": "lb/a.nii.gz"},
                     {"image": ["im/b_0000.nii.gz", "im/b_0001.nii.gz"], "label": "lb/b.nii.gz"},
                     {"image": ["im/c.nii.gz"], "label": "lb/c.nii.gz"}]})
    ds = read_dataset(str(path))
    assert [c.name for c in ds.training] == ["a_ct", "b", "c"]
    assert ds.training[0].image == ("im/a_ct.nii.gz", "im/a_pet.nii.gz")
    assert ds.training[2].image == "im/c.nii.gz"  # a list of one is that file


def test_a_folder_with_an_msd_datalist_is_that_datalist(tmp_path):
    (tmp_path / "dataset.json").write_text(json.dumps({
        "training": [{"image": "./imagesTr/a.png", "label": "./labelsTr/a.png"}]}))
    ds = read_dataset(str(tmp_path))
    assert ds.form == "datalist" and ds.training[0].image == "imagesTr/a.png"


def test_region_based_labels_are_regions_in_order(tmp_path):
    (tmp_path / "dataset.json").write_text(json.dumps({
        "training": [{"image": "a.nii", "label": "l.nii"}],
        "labels": {"background": 0, "whole tumor": [1, 2, 3], "tumor core": [2, 3],
                   "enhancing tumor": 3}}))
    ds = read_dataset(str(tmp_path / "dataset.json"))
    assert ds.regions == {"whole tumor": (1, 2, 3), "tumor core": (2, 3),
                          "enhancing tumor": (3,)}
    assert ds.labels == {0: "background", 1: "label_1", 2: "label_2", 3: "enhancing tumor"}


@pytest.mark.parametrize("data, message", [
    ({"training": [{"image": [], "label": "l.nii"}]}, '"image" is an empty list'),
    ({"training": [{"image": ["a.nii", 3], "label": "l.nii"}]}, "expected a file path, found 3"),
    ({"training": [{"image": "a.nii", "label": ["l.nii"]}]}, "expected a file path"),
    ({"training": [{"image": "a.nii"}]}, 'a training case needs a "label" file'),
    ({"training": []}, "has no 'training' cases"),
    ({"training": [{"image": "a.nii", "label": "l.nii"}], "labels": {"tumour": [1, "x"]}},
     "is not an integer value or a list of them"),
    ({"training": [{"image": "a.nii", "label": "l.nii"}], "labels": {"tumour": []}},
     "is not an integer value or a list of them"),
])
def test_unsupported_or_malformed_datasets_say_what_to_do(tmp_path, data, message):
    path = write(tmp_path / "dataset.json", data)
    with pytest.raises(PlanError, match=message):
        read_dataset(str(path))


def test_a_missing_dataset_is_named(tmp_path):
    with pytest.raises(PlanError, match="not found"):
        read_dataset(str(tmp_path / "nope.json"))
    with pytest.raises(PlanError, match="folder without dataset.json"):
        read_dataset(str(tmp_path))


def test_folds_cover_every_case_once_and_are_deterministic():
    from clara_core.plan.dataset import Case

    cases = [Case(f"c{i}", f"c{i}.nii") for i in range(11)]
    first, again = splits(cases, 5), splits(cases, 5)
    assert first == again
    vals = [n for f in first for n in f["val"]]
    assert sorted(vals) == sorted(c.name for c in cases) and len(set(vals)) == 11
    assert all(set(f["train"]).isdisjoint(f["val"]) for f in first)
