"""SegmentationImagePipeline: seeded, worker-count independent batches; cache; fg indices."""

from __future__ import annotations

import json

import numpy as np
from clara_transforms_basic.crop import CropByPosNegRatio
from clara_transforms_basic.flip import RandomSpatialFlip
from clara_transforms_basic.intensity import RandomShiftIntensity
from clara_transforms_basic.layout import ConvertToChannelsFirst
from clara_transforms_basic.loaders.nifti import LoadNifti
from train_mmar import make_case

from clara_core.data.segmentation import SegmentationImagePipeline


def pipeline(folder, workers, seed=5):
    p = SegmentationImagePipeline("dataset.json", output_batch_size=2, num_workers=workers,
                                  batched_by_transforms=True)
    p.set_root(str(folder))
    p.set_seed(seed)
    p.set_transforms([LoadNifti(fields=["image", "label"]),
                      ConvertToChannelsFirst(fields=["image", "label"]),
                      CropByPosNegRatio(size=[8, 8, 8], num_samples=3),
                      RandomSpatialFlip(["image", "label"]),
                      RandomShiftIntensity(["image"], offset=0.5)])
    return p


def data(tmp_path, cases=5):
    items = [make_case(tmp_path, s) for s in range(cases)]
    (tmp_path / "dataset.json").write_text(json.dumps({"training": items}))
    return tmp_path


def epoch(p, e):
    return [np.concatenate([im.ravel(), lab.ravel()]) for im, lab in p.batches(e)]


def test_same_seed_same_batches_whatever_the_worker_count(tmp_path):
    folder = data(tmp_path)
    one, three = pipeline(folder, 1), pipeline(folder, 3)
    for e in (0, 1):
        a, b = epoch(one, e), epoch(three, e)
        assert len(a) == 7 and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(epoch(one, 0), epoch(one, 1),
                                                         strict=True))
    other_seed = pipeline(folder, 2, seed=6)
    assert not all(np.array_equal(x, y) for x, y in zip(epoch(one, 0), epoch(other_seed, 0),
                                                         strict=True))


def test_cache_all_runs_the_prefix_once_per_case(tmp_path):
    p = pipeline(data(tmp_path), 2)
    assert p.cache_all() == 5
    first = p._prefix(0).get_image("label").get_data()
    assert p._prefix(0).get_image("label").get_data() is first  # the cached array, shared


def test_crops_centre_on_foreground_at_the_asked_ratio(tmp_path):
    p = pipeline(data(tmp_path, cases=3), 2)
    p.set_transforms(p._transforms[:2] + [CropByPosNegRatio(size=[4, 4, 4], pos=1, neg=0,
                                                            num_samples=4)])
    labels = [lab for e in range(3) for _, lab in p.batches(e)]
    # centred on a foreground voxel: the crop's centre voxel is foreground
    assert all(lab[i, 0, 2, 2, 2] == 1 for lab in labels for i in range(lab.shape[0]))
