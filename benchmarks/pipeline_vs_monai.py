"""Data pipeline throughput: clara's SegmentationImagePipeline against MONAI's CacheDataset.

16 synthetic CT-like cases of 160x160x96 voxels (.nii.gz, int16 HU, organ-like
labels 1 and 2). Chain: load, channels first, intensity -1000..1000 -> 0..1
clipped, crops of 64^3 by positive/negative ratio 1:1 (4 per case), flip on axis
0 with p 0.5, random intensity shift (0.1, p 0.5), batches of 2.

- clara: SegmentationImagePipeline (deterministic prefix cached, random suffix in
  ``--workers`` threads), batches from ``feed(epoch)``, what the engine trains on
  with one device (prefetched in a background thread).
- MONAI: CacheDataset (cache_rate 1) + DataLoader in the main process (its best
  on these 2-core machines, measured 117 vs 49/67 crops/s with 1/2 workers),
  without and with FgBgToIndicesd before the cache.

Each runs in its own process (peak memory is its own): cache build time, time to
the first batch after the cache, steady-state crops/s over ``--epochs`` epochs
after the first. Prints one JSON line; goal: at least 2x MONAI's faster variant
in steady state, no slower cache build, no more memory.

    python benchmarks/pipeline_vs_monai.py [--workers 2] [--epochs 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

SHAPE, CASES, CROP, SAMPLES, BATCH = (160, 160, 96), 16, 64, 4, 2


def make_cases(folder: str) -> list[dict[str, str]]:
    import nibabel as nib

    rng = np.random.default_rng(0)
    grid = np.indices(SHAPE, dtype=np.float32)
    items = []
    for i in range(CASES):
        body = (((grid[0] - 80) / 70) ** 2 + ((grid[1] - 80) / 55) ** 2) < 1
        image = np.where(body, 0.0, -1000.0) + rng.normal(0, 20, SHAPE)
        label = np.zeros(SHAPE, np.uint8)
        for value, (c, r) in enumerate([((60, 70, 48), (22, 18, 20)),
                                        ((100, 90, 40), (12, 15, 14))], start=1):
            centre = np.array(c) + rng.integers(-8, 9, 3)
            organ = sum(((g - x) / s) ** 2 for g, x, s in zip(grid, centre, r, strict=True)) < 1
            label[organ] = value
            image[organ] = 60 * value + rng.normal(0, 10, int(organ.sum()))
        affine = np.diag([0.8, 0.8, 2.5, 1.0])
        paths = {}
        for kind, data in (("image", image.astype(np.int16)), ("label", label)):
            path = os.path.join(folder, f"{kind}{i}.nii.gz")
            nib.save(nib.Nifti1Image(data, affine), path)
            paths[kind] = path
        items.append(paths)
    with open(os.path.join(folder, "dataset.json"), "w") as f:
        json.dump({"training": items}, f)
    return items


def clara_pipeline(folder: str, workers: int, prefetch: int = 2,
                   augment: list[Any] | None = None) -> Any:
    """The benchmark's chain in a SegmentationImagePipeline: load, channels first,
    window, crops by pos/neg ratio, then ``augment`` (default: this benchmark's flip
    and intensity shift; also used by workers_threads_vs_processes.py and
    augment_vs_monai.py)."""
    from clara_transforms_basic.channels import ConvertToChannelsFirst
    from clara_transforms_basic.crop import CropByPosNegRatio
    from clara_transforms_basic.flip import RandomSpatialFlip
    from clara_transforms_basic.intensity import RandomShiftIntensity, ScaleIntensityRange
    from clara_transforms_basic.loaders.nifti import LoadNifti

    from clara_core.data.segmentation import SegmentationImagePipeline

    pipeline = SegmentationImagePipeline("dataset.json", output_batch_size=BATCH,
                                         num_workers=workers, prefetch_size=prefetch)
    pipeline.set_root(folder)
    pipeline.set_seed(0)
    if augment is None:
        augment = [RandomSpatialFlip(["image", "label"], probability=0.5, axes=[0]),
                   RandomShiftIntensity(["image"], offset=0.1, probability=0.5)]
    pipeline.set_transforms([
        LoadNifti(fields=["image", "label"]),
        ConvertToChannelsFirst(fields=["image", "label"]),
        ScaleIntensityRange("image", a_min=-1000, a_max=1000, b_min=0.0, b_max=1.0, clip=True),
        CropByPosNegRatio(size=[CROP] * 3, pos=1, neg=1, num_samples=SAMPLES),
        *augment,
    ])
    return pipeline


def run_clara(folder: str, workers: int, epochs: int) -> dict[str, float]:
    import nibabel  # noqa: F401  (libraries are imported before timing, for both)
    import tensorflow  # noqa: F401  (imported before timing, as torch is for MONAI)

    pipeline = clara_pipeline(folder, workers)
    t0 = time.perf_counter()
    pipeline.cache_all()
    build = time.perf_counter() - t0

    def epoch(e: int) -> tuple[int, float]:
        first, crops = None, 0
        t = time.perf_counter()
        for images, _labels in pipeline.feed(e):
            crops += int(images.shape[0])
            first = first or time.perf_counter() - t
        return crops, first or 0.0

    _, first_batch = epoch(0)
    t0 = time.perf_counter()
    crops = sum(epoch(e)[0] for e in range(1, epochs + 1))
    return {"cache_build_s": build, "first_batch_s": first_batch,
            "crops_per_s": crops / (time.perf_counter() - t0)}


def run_monai(folder: str, epochs: int, fgbg: bool) -> dict[str, float]:
    import monai.transforms as mt
    import nibabel  # noqa: F401  (MONAI imports it on first use; both import it before timing)
    from monai.data import CacheDataset, DataLoader

    with open(os.path.join(folder, "dataset.json")) as f:
        items = json.load(f)["training"]
    keys = ["image", "label"]
    deterministic = [mt.LoadImaged(keys), mt.EnsureChannelFirstd(keys),
                     mt.ScaleIntensityRanged("image", -1000, 1000, 0.0, 1.0, clip=True)]
    crop_args = {}
    if fgbg:
        deterministic.append(mt.FgBgToIndicesd("label"))
        crop_args = {"fg_indices_key": "label_fg_indices", "bg_indices_key": "label_bg_indices"}
    random = [mt.RandCropByPosNegLabeld(keys, "label", (CROP,) * 3, pos=1, neg=1,
                                        num_samples=SAMPLES, **crop_args),
              mt.RandFlipd(keys, prob=0.5, spatial_axis=0),
              mt.RandShiftIntensityd("image", offsets=0.1, prob=0.5)]
    t0 = time.perf_counter()
    dataset = CacheDataset(items, mt.Compose(deterministic + random), cache_rate=1.0,
                           num_workers=None, progress=False)
    build = time.perf_counter() - t0
    loader = DataLoader(dataset, batch_size=BATCH,
                        shuffle=True, num_workers=0)

    def epoch() -> tuple[int, float]:
        first, crops = None, 0
        t = time.perf_counter()
        for batch in loader:
            crops += int(batch["image"].shape[0])
            first = first or time.perf_counter() - t
        return crops, first or 0.0

    _, first_batch = epoch()
    t0 = time.perf_counter()
    crops = sum(epoch()[0] for _ in range(epochs))
    return {"cache_build_s": build, "first_batch_s": first_batch,
            "crops_per_s": crops / (time.perf_counter() - t0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3, help="processes per variant (medians)")
    parser.add_argument("--one", choices=["clara", "monai", "monai_fgbg"])
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.one:
        if args.one == "clara":
            result = run_clara(args.data, args.workers, args.epochs)
        else:
            result = run_monai(args.data, args.epochs, args.one == "monai_fgbg")
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as folder:
        make_cases(folder)
        runs: dict[str, list[dict[str, float]]] = {"clara": [], "monai": [], "monai_fgbg": []}
        results: dict[str, dict[str, Any]] = {}
        for _ in range(args.repeats):  # interleaved, so drift hits every variant alike
            for who in runs:
                out = subprocess.run([sys.executable, __file__, "--one", who, "--data", folder,
                                      "--workers", str(args.workers), "--epochs",
                                      str(args.epochs)], capture_output=True, text=True)
                if out.returncode:
                    results[who] = {"error": out.stderr.strip().splitlines()[-1][:300]}
                else:
                    runs[who].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for who, measured in runs.items():
            if who not in results:
                results[who] = {m: statistics.median(r[m] for r in measured)
                                for m in measured[0]}
    rounded = {k: {m: round(v, 3) for m, v in r.items()} if "error" not in r else r
               for k, r in results.items()}
    line: dict[str, object] = {
        "benchmark": "pipeline_vs_monai", "cases": f"{CASES} x {'x'.join(map(str, SHAPE))}",
        "crops": f"{SAMPLES} x {CROP}^3 per case, batch {BATCH}", "clara_workers": args.workers,
        "repeats": args.repeats, "statistic": "median over repeats",
        **rounded, "baseline": "MONAI CacheDataset + DataLoader(num_workers=0), the faster of "
                               "without/with FgBgToIndicesd"}
    monai = [r for k, r in results.items() if k != "clara" and "error" not in r]
    if monai and "error" not in results["clara"]:
        best = max(monai, key=lambda r: r["crops_per_s"])
        ours = results["clara"]
        line["ratio"] = {
            "throughput": round(ours["crops_per_s"] / best["crops_per_s"], 3),
            "cache_build": round(ours["cache_build_s"] / best["cache_build_s"], 3),
            "peak_memory": round(ours["peak_mb"] / best["peak_mb"], 3)}
    line["goal"] = "throughput >= 2, cache_build <= 1, peak_memory <= 1"
    print(json.dumps(line))


if __name__ == "__main__":
    main()
