"""Heavy spatial augmentation: clara's data engine against MONAI on the same chain.

Same 16 CT-like cases of 160x160x96 as ``pipeline_vs_monai.py``. Chain: load,
channels first, window -1000..1000 -> 0..1 clipped, 4 crops of 64^3 per case by
positive/negative ratio 1:1, rotation up to 15 degrees about each axis (p 1), zoom
0.9..1.1 (p 1), flip on axis 0 (p 0.5), Gaussian noise (p 0.5), batches of 2.

- clara: SegmentationImagePipeline with ``CropByPosNegRatio``, ``RandomRotate3D``,
  ``RandomZoom``, ``RandomSpatialFlip``, ``AddGaussianNoise``, the random suffix in
  1 and in 2 worker threads, batches from ``feed(epoch)``.
- MONAI: CacheDataset (with FgBgToIndicesd) + DataLoader(num_workers=0) with
  ``RandCropByPosNegLabeld``, ``RandRotated``, ``RandZoomd`` (keep_size),
  ``RandFlipd``, ``RandGaussianNoised``: its best on these 2-core machines.

Each variant runs in its own process (peak memory is its own); the variants are
interleaved over ``--repeats`` rounds and the medians reported. Steady-state
crops/s over ``--epochs`` epochs after a first (warm-up) epoch. One JSON line;
goal: at least 3x MONAI's crops/s with 2 threads and 1.5x with 1 thread, no more
peak memory.

    python benchmarks/augment_vs_monai.py [--epochs 2] [--repeats 3]
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

from pipeline_vs_monai import BATCH, CASES, CROP, SAMPLES, SHAPE, make_cases  # noqa: E402
from pipeline_vs_monai import clara_pipeline as light_chain  # noqa: E402

ANGLE, ZOOM = 15.0, (0.9, 1.1)
VARIANTS = {"clara_2_threads": 2, "clara_1_thread": 1, "monai": 0}


def clara_pipeline(folder: str, workers: int) -> Any:
    from clara_transforms_basic.flip import RandomSpatialFlip
    from clara_transforms_basic.intensity import AddGaussianNoise
    from clara_transforms_basic.warp import RandomRotate3D, RandomZoom

    return light_chain(folder, workers, augment=[
        RandomRotate3D(angle=ANGLE, probability=1.0),
        RandomZoom(lower_limits=ZOOM[0], upper_limits=ZOOM[1], probability=1.0),
        RandomSpatialFlip(["image", "label"], probability=0.5, axes=[0]),
        AddGaussianNoise("image", probability=0.5, variance=0.01)])


def run_clara(folder: str, workers: int, epochs: int) -> dict[str, float]:
    import nibabel  # noqa: F401  (libraries are imported before timing, for both)
    import tensorflow  # noqa: F401

    pipeline = clara_pipeline(folder, workers)
    pipeline.cache_all()

    def epoch(e: int) -> int:
        return sum(int(images.shape[0]) for images, _labels in pipeline.feed(e))

    epoch(0)
    t0 = time.perf_counter()
    crops = sum(epoch(e) for e in range(1, epochs + 1))
    return {"crops_per_s": crops / (time.perf_counter() - t0)}


def run_monai(folder: str, epochs: int) -> dict[str, float]:
    import math

    import monai.transforms as mt
    import nibabel  # noqa: F401
    from monai.data import CacheDataset, DataLoader

    with open(os.path.join(folder, "dataset.json")) as f:
        items = json.load(f)["training"]
    keys = ["image", "label"]
    angle = math.radians(ANGLE)
    chain = mt.Compose([
        mt.LoadImaged(keys), mt.EnsureChannelFirstd(keys),
        mt.ScaleIntensityRanged("image", -1000, 1000, 0.0, 1.0, clip=True),
        mt.FgBgToIndicesd("label"),
        mt.RandCropByPosNegLabeld(keys, "label", (CROP,) * 3, pos=1, neg=1,
                                  num_samples=SAMPLES, fg_indices_key="label_fg_indices",
                                  bg_indices_key="label_bg_indices"),
        mt.RandRotated(keys, range_x=angle, range_y=angle, range_z=angle, prob=1.0,
                       mode=("bilinear", "nearest"), padding_mode="zeros"),
        mt.RandZoomd(keys, prob=1.0, min_zoom=ZOOM[0], max_zoom=ZOOM[1],
                     mode=("trilinear", "nearest"), keep_size=True),
        mt.RandFlipd(keys, prob=0.5, spatial_axis=0),
        mt.RandGaussianNoised("image", prob=0.5, std=0.1),
    ])
    dataset = CacheDataset(items, chain, cache_rate=1.0, num_workers=None, progress=False)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=0)

    def epoch() -> int:
        return sum(int(batch["image"].shape[0]) for batch in loader)

    epoch()
    t0 = time.perf_counter()
    crops = sum(epoch() for _ in range(epochs))
    return {"crops_per_s": crops / (time.perf_counter() - t0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="processes per variant (medians)")
    parser.add_argument("--one", choices=list(VARIANTS))
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.one:
        workers = VARIANTS[args.one]
        result = (run_clara(args.data, workers, args.epochs) if workers
                  else run_monai(args.data, args.epochs))
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    runs: dict[str, list[dict[str, float]]] = {who: [] for who in VARIANTS}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        make_cases(folder)
        for _ in range(args.repeats):  # interleaved, so drift hits every variant alike
            for who in VARIANTS:
                out = subprocess.run([sys.executable, __file__, "--one", who, "--data", folder,
                                      "--epochs", str(args.epochs)],
                                     capture_output=True, text=True)
                if out.returncode:
                    errors[who] = (out.stderr.strip().splitlines() or ["?"])[-1][:300]
                else:
                    runs[who].append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {who: {m: round(statistics.median(r[m] for r in measured), 2)
                     for m in measured[0]} for who, measured in runs.items() if measured}
    line: dict[str, Any] = {
        "benchmark": "augment_vs_monai", "cases": f"{CASES} x {'x'.join(map(str, SHAPE))}",
        "chain": f"{SAMPLES} crops of {CROP}^3 by pos/neg, rotate {ANGLE:g} deg p1, zoom "
                 f"{ZOOM[0]}..{ZOOM[1]} p1, flip p0.5, noise p0.5, batch {BATCH}",
        "repeats": args.repeats, "statistic": "median over repeats", **medians, **(
            {"errors": errors} if errors else {}),
        "baseline": "MONAI 1.x CacheDataset (FgBgToIndicesd) + DataLoader(num_workers=0)"}
    if "monai" in medians:
        base = medians["monai"]
        line["ratio"] = {f"{who}_throughput": round(m["crops_per_s"] / base["crops_per_s"], 3)
                         for who, m in medians.items() if who != "monai"}
        line["ratio"].update({f"{who}_peak_memory": round(m["peak_mb"] / base["peak_mb"], 3)
                              for who, m in medians.items() if who != "monai"})
    line["goal"] = "2 threads >= 3, 1 thread >= 1.5, peak_memory <= 1"
    print(json.dumps(line))


if __name__ == "__main__":
    main()
