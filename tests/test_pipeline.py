"""SegmentationImagePipeline: seeded, worker-count independent batches; cache; fg indices."""

from __future__ import annotations

import json

import numpy as np
import pytest
from clara_transforms_basic.channels import ConvertToChannelsFirst
from clara_transforms_basic.crop import CropByPosNegRatio
from clara_transforms_basic.flip import RandomSpatialFlip
from clara_transforms_basic.intensity import RandomShiftIntensity
from clara_transforms_basic.loaders.nifti import LoadNifti
from clara_transforms_basic.warp import RandomRotate3D, RandomZoom
from train_mmar import make_case

from clara_core.data.segmentation import SegmentationImagePipeline
from clara_core.errors import ClaraError


def pipeline(folder, workers, seed=5, heavy=False):
    """A crop, flip and shift; ``heavy`` adds a rotation and a zoom (fused with the crop)."""
    p = SegmentationImagePipeline("dataset.json", output_batch_size=2, num_workers=workers)
    p.set_root(str(folder))
    p.set_seed(seed)
    warps = [RandomRotate3D(angle=15, probability=1.0),
             RandomZoom(lower_limits=0.9, upper_limits=1.1, probability=1.0)] if heavy else []
    p.set_transforms([LoadNifti(fields=["image", "label"]),
                      ConvertToChannelsFirst(fields=["image", "label"]),
                      CropByPosNegRatio(size=[8, 8, 8], num_samples=3), *warps,
                      RandomSpatialFlip(["image", "label"]),
                      RandomShiftIntensity(["image"], offset=0.5)])
    return p


def data(tmp_path, cases=5):
    items = [make_case(tmp_path, s) for s in range(cases)]
    (tmp_path / "dataset.json").write_text(json.dumps({"training": items}))
    return tmp_path


def epoch(p, e):
    return [np.concatenate([im.ravel(), lab.ravel()]) for im, lab in p.batches(e)]


@pytest.mark.parametrize("heavy", [False, True], ids=["crop_flip", "crop_rotate_zoom_flip"])
def test_same_seed_same_batches_whatever_the_worker_count(tmp_path, heavy):
    folder = data(tmp_path)
    one, three = pipeline(folder, 1, heavy=heavy), pipeline(folder, 3, heavy=heavy)
    for e in (0, 1):
        a, b = epoch(one, e), epoch(three, e)
        assert len(a) == 7 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(epoch(one, 0), epoch(one, 1),
                                                         strict=True))
    other_seed = pipeline(folder, 2, seed=6, heavy=heavy)
    assert not all(np.array_equal(x, y) for x, y in zip(epoch(one, 0), epoch(other_seed, 0),
                                                         strict=True))


def test_an_epoch_smaller_than_a_batch_repeats_its_samples_to_fill_one(tmp_path):
    """3 cases, one crop each, batch 4: one batch of 4 (the SDK's repeat), not none."""
    folder = data(tmp_path, cases=3)
    p = SegmentationImagePipeline("dataset.json", output_batch_size=4, num_workers=1,
                                  shuffle=False)
    p.set_root(str(folder))
    p.set_transforms([LoadNifti(fields=["image", "label"]),
                      ConvertToChannelsFirst(fields=["image", "label"]),
                      CropByPosNegRatio(size=[8, 8, 8], num_samples=1)])
    batches = list(p.batches(0))
    assert len(batches) == 1 and batches[0][0].shape[0] == 4
    assert np.array_equal(batches[0][0][3], batches[0][0][0])  # the first sample again


def test_validation_cases_are_the_same_whatever_the_worker_count(tmp_path):
    folder = data(tmp_path, cases=4)
    one, three = pipeline(folder, 1), pipeline(folder, 3)
    a, b = list(one.cases()), list(three.cases())
    assert len(a) == 4 and all(
        np.array_equal(x.get_image("image").get_data(), y.get_image("image").get_data())
        for x, y in zip(a, b, strict=True))


def test_the_sdk_crop_size_is_declared_without_effect_and_batching_taken():
    import inspect

    params = inspect.signature(SegmentationImagePipeline).parameters
    assert "output_crop_size" in SegmentationImagePipeline.no_effect_args
    assert "output_crop_size" not in params
    assert "batched_by_transforms" in params  # output_batch_size cases x their samples


def test_cache_all_runs_the_prefix_once_per_case(tmp_path):
    p = pipeline(data(tmp_path), 2)
    assert p.cache_all() == 5
    first = p.case_cache.get(0).get_image("label").get_data()
    assert p.case_cache.get(0).get_image("label").get_data() is first  # the array, shared
    assert not first.flags.writeable  # a transform writing into it fails loudly


def test_crops_centre_on_foreground_at_the_asked_ratio(tmp_path):
    p = pipeline(data(tmp_path, cases=3), 2)
    p.set_transforms(p.get_transforms()[:2] + [CropByPosNegRatio(size=[4, 4, 4], pos=1, neg=0,
                                                            num_samples=4)])
    labels = [lab for e in range(3) for _, lab in p.batches(e)]
    # centred on a foreground voxel: the crop's centre voxel is foreground
    assert all(lab[i, 0, 2, 2, 2] == 1 for lab in labels for i in range(lab.shape[0]))


# -- smart cache, disk cache (the parts: tests/test_pipeline_parts.py) -------------------

def test_smart_cache_swaps_a_fraction_of_cases_per_epoch(tmp_path):
    from clara_core.data.segmentation import SegmentationImagePipelineWithCache

    folder = data(tmp_path, cases=8)
    p = SegmentationImagePipelineWithCache("dataset.json", num_cache_objects=4,
                                           replace_percent=0.5, output_batch_size=1)
    p.set_root(str(folder))
    p.set_transforms([LoadNifti(fields=["image", "label"]),
                      ConvertToChannelsFirst(fields=["image", "label"])])
    seen = []
    for e in range(4):
        images = [im for im, _ in p.batches(e)]
        assert len(images) == 4  # an epoch is the cache's cases
        seen.append(set(p.epoch_cases(e)))
        assert len(p.case_cache) <= 6  # this epoch's 4 and the next epoch's 2 replacements
    assert seen == [{0, 1, 2, 3}, {2, 3, 4, 5}, {4, 5, 6, 7}, {6, 7, 0, 1}]
    p.case_cache.wait()
    assert p.case_cache.held() == [0, 1, 2, 3, 6, 7]  # epoch 3's cases and epoch 4's new ones


def test_disk_cache_is_reused_by_the_next_run_and_follows_the_chain(tmp_path):
    from clara_transforms_basic.intensity import ScaleShiftIntensity

    folder = data(tmp_path, cases=3)

    def make(offset):
        p = SegmentationImagePipeline("dataset.json", cache_dir="cache", output_batch_size=1,
                                      shuffle=False)
        p.set_root(str(folder))
        p.set_transforms([LoadNifti(fields=["image", "label"]),
                          ConvertToChannelsFirst(fields=["image", "label"]),
                          ScaleShiftIntensity("image", shift=offset)])
        return p

    first = [im for im, _ in make(0.0).batches(0)]
    cached = sorted((folder / "cache").iterdir())
    assert len(cached) == 3 and all((d / "image.npy").exists() for d in cached)
    shifted = [im for im, _ in make(1.0).batches(0)]  # another chain: another key
    assert len(list((folder / "cache").iterdir())) == 6
    np.testing.assert_allclose(shifted[0], first[0] + 1.0, rtol=1e-6)
    for source in folder.glob("*.nii.gz"):  # a run that read the sources would fail now
        source.write_bytes(b"not a NIfTI file")
    again = make(0.0)
    second = [im for im, _ in again.batches(0)]
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert len(list((folder / "cache").iterdir())) == 6
    array = again.case_cache.get(0).get_image("image").get_data()
    while not isinstance(array, np.memmap) and array.base is not None:
        array = array.base
    assert isinstance(array, np.memmap)  # read from the file, not held in memory


# -- bad cases ---------------------------------------------------------------------------

def bad_corpus(folder):
    """Good cases plus one truncated gzip, one image/label shape mismatch, one NaN."""
    import nibabel as nib

    items = [make_case(folder, s) for s in range(3)]
    good = (folder / "image0.nii.gz").read_bytes()
    (folder / "truncated.nii.gz").write_bytes(good[: len(good) // 2])
    items.append({"image": "truncated.nii.gz", "label": "label0.nii.gz"})
    nib.save(nib.Nifti1Image(np.zeros((20, 20, 18), np.uint8), np.eye(4)),
             folder / "short_label.nii.gz")
    items.append({"image": "image1.nii.gz", "label": "short_label.nii.gz"})
    nan = np.ones((20, 20, 20), np.float32)
    nan[3, 4, 5] = np.nan
    nib.save(nib.Nifti1Image(nan, np.eye(4)), folder / "nan.nii.gz")
    items.append({"image": "nan.nii.gz", "label": "label2.nii.gz"})
    (folder / "dataset.json").write_text(json.dumps({"training": items}))
    return folder


def bad_pipeline(folder, **kw):
    p = SegmentationImagePipeline("dataset.json", output_batch_size=1, shuffle=False, **kw)
    p.set_root(str(folder))
    p.set_transforms([LoadNifti(fields=["image", "label"]),
                      ConvertToChannelsFirst(fields=["image", "label"])])
    return p


@pytest.mark.parametrize("index, message", [
    (3, r"LoadNifti failed on case .*truncated.nii.gz.*cannot read .*truncated.nii.gz"),
    (4, r"image spatial shape \(20, 20, 20\) and label spatial shape \(20, 20, 18\) differ "
        r"after ConvertToChannelsFirst"),
    (5, r"nan.nii.gz.*field 'image' has 1 NaN/infinite value\(s\) after ConvertToChannelsFirst"),
])
def test_each_bad_case_stops_the_run_naming_file_and_transform(tmp_path, index, message):
    from clara_core.data.chain import CaseError

    p = bad_pipeline(bad_corpus(tmp_path))
    with pytest.raises(CaseError, match=message):
        p.case_cache.get(index)


def test_skip_bad_cases_trains_on_the_rest_and_lists_them(tmp_path):
    p = bad_pipeline(bad_corpus(tmp_path), skip_bad_cases=True, num_workers=2)
    assert len(list(p.batches(0))) == 3
    report = p.bad_case_report()
    assert [line.split(":")[0] for line in report] == ["case 3", "case 4", "case 5"]
    assert "truncated.nii.gz" in report[0] and "short_label" in report[1]
    assert len(list(p.batches(1))) == 3  # known bad cases are not read again


def test_the_first_bad_case_stops_batches_with_its_error(tmp_path):
    from clara_core.data.chain import CaseError

    p = bad_pipeline(bad_corpus(tmp_path), num_workers=2)
    with pytest.raises(CaseError, match="truncated.nii.gz"):
        list(p.batches(0))


# -- classification ----------------------------------------------------------------------

def test_classification_pipeline_batches_images_with_class_labels(tmp_path):
    from clara_core.data.classification import ClassificationImagePipeline

    items = [make_case(tmp_path, s) for s in range(4)]
    (tmp_path / "dataset.json").write_text(json.dumps({"training": [
        {"image": it["image"], "label": s % 3} for s, it in enumerate(items)]}))
    p = ClassificationImagePipeline("dataset.json", output_batch_size=2, num_classes=3,
                                    shuffle=False)
    p.set_root(str(tmp_path))
    p.set_transforms([LoadNifti(fields="image"), ConvertToChannelsFirst(fields="image")])
    batches = list(p.batches(0))
    assert [b[0].shape for b in batches] == [(2, 1, 20, 20, 20)] * 2
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]),
                                  np.eye(3)[[0, 1, 2, 0]])
    prop = p.get_data_property()
    assert (prop.num_channels, prop.num_label_channels, prop.crop_shape) == (1, 3, (20, 20, 20))
    ds = p.get_dataset(0)
    assert [tuple(t.shape) for t in next(iter(ds))] == [(2, 1, 20, 20, 20), (2, 3)]


def test_label_on_another_grid_is_a_bad_case_but_header_round_off_is_not(tmp_path):
    import nibabel as nib

    from clara_core.data.chain import CaseError

    items = [make_case(tmp_path, 0)]
    label = nib.load(tmp_path / "label0.nii.gz")
    for name, offset in (("noise", 1e-4), ("shifted", 0.5)):
        affine = label.affine.copy()
        affine[0, 3] += offset  # mm; voxels are 1 mm
        nib.save(nib.Nifti1Image(np.asarray(label.dataobj), affine), tmp_path / f"{name}.nii.gz")
        items.append({"image": "image0.nii.gz", "label": f"{name}.nii.gz"})
    (tmp_path / "dataset.json").write_text(json.dumps({"training": items}))
    p = bad_pipeline(tmp_path)
    assert p.case_cache.get(1) is not None
    with pytest.raises(CaseError, match=r"shifted.nii.gz.*0.5 voxels apart"):
        p.case_cache.get(2)


def test_label_values_are_checked_against_the_class_count():
    from clara_core.data.chain import CaseError, check_label_values
    from clara_core.image.medical_image import MedicalImage
    from clara_core.image.transform_ctx import TransformContext

    def case(values):
        ctx = TransformContext()
        ctx.set_image("label", MedicalImage(np.array(values, np.float32)[None, None], "CHW",
                                            {"filename": "seg.nii.gz"}))
        return ctx

    check_label_values(case([0, 1]), "label", 1)  # one sigmoid channel: labels 0 and 1
    check_label_values(case([0, 2]), "label", 3)
    check_label_values(case([0, 7]), "label", None)  # class count unknown: only integrality
    with pytest.raises(CaseError, match="label values 3 lie outside 0..2"):
        check_label_values(case([0, 3]), "label", 3)
    with pytest.raises(CaseError, match="non-integer values such as"):
        check_label_values(case([0, 0.5]), "label", None)


def test_a_shard_caches_only_its_cases_and_every_replica_gets_equal_steps(tmp_path):
    folder = data(tmp_path, cases=5)
    steps = {}
    for replica in (0, 1):
        p = pipeline(folder, 2)
        assert p.set_shard([replica], 2)
        epoch = list(p.replica_feed(1))
        steps[replica] = len(epoch)
        assert p.case_cache.held() == [i for i in range(5) if i % 2 == replica]
        assert all(len(per) == 1 and per[0][0].shape == (1, 1, 8, 8, 8) for per in epoch)
    # replica 0 owns 3 cases, replica 1 owns 2: both take 2 cases x 3 crops / 1 per step
    assert steps == {0: 6, 1: 6}
    both = pipeline(folder, 2)
    both.set_shard([0, 1], 2)
    together = list(both.replica_feed(1))
    alone = {r: list(pipeline_shard(folder, r).replica_feed(1)) for r in (0, 1)}
    for step, per in enumerate(together):  # one worker x 2 replicas == 2 workers x 1
        for k in (0, 1):
            np.testing.assert_array_equal(per[k][0], alone[k][step][0][0])


def pipeline_shard(folder, replica):
    p = pipeline(folder, 1)
    p.set_shard([replica], 2)
    return p


def test_a_global_batch_that_does_not_split_over_the_replicas_is_refused(tmp_path):
    p = pipeline(data(tmp_path, cases=2), 1)
    with pytest.raises(ClaraError, match="output_batch_size 2 does not split over 3 replicas"):
        p.set_shard([0], 3)


def test_replicas_with_fewer_samples_than_a_batch_repeat_them_and_empty_ones_are_refused(
        tmp_path):
    folder = data(tmp_path, cases=3)
    p = SegmentationImagePipeline("dataset.json", output_batch_size=8, num_workers=1)
    p.set_root(str(folder))
    p.set_transforms([LoadNifti(fields=["image", "label"]),
                      ConvertToChannelsFirst(fields=["image", "label"]),
                      CropByPosNegRatio(size=[8, 8, 8], num_samples=1)])
    p.set_shard([0, 1], 2)  # 2 and 1 cases, 4 samples a replica
    steps = list(p.replica_feed(0))
    assert len(steps) == 1 and [b[0].shape[0] for b in steps[0]] == [4, 4]
    p.set_shard([0, 1, 2, 3], 4)  # replica 3 owns no case
    with pytest.raises(ClaraError, match="cannot give each of 4 replicas a case"):
        list(p.replica_feed(0))
