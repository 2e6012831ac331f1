"""HD95 and average surface distance on a 256^3 pair: clara against MONAI and SimpleITK.

Baselines, timed in the same run on the same masks: MONAI 1.x
``compute_hausdorff_distance(percentile=95)`` and
``compute_average_surface_distance(symmetric=True)`` (needs torch and monai: the
``bench`` nox session installs them), and SimpleITK's
``HausdorffDistanceImageFilter`` (maximum and average Hausdorff distance; it has
no percentile). Masks: two overlapping ragged ellipsoids, spacing 0.8 x 0.8 x
1.5 mm. Goal: no slower than the faster of the two. Prints one JSON line.

    python benchmarks/metrics.py [--repeats 5] [--size 256]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np

SPACING = (0.8, 0.8, 1.5)


def ellipsoid(size: int, centre: tuple[float, ...], radii: tuple[float, ...],
              seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grid = np.ogrid[tuple(slice(0, size) for _ in range(3))]
    r = sum(((g - c) / a) ** 2 for g, c, a in zip(grid, centre, radii, strict=True))
    return np.sqrt(r) + rng.normal(scale=0.02, size=(size,) * 3) < 1.0


def median_time(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    value = fn()  # warm up (imports, thread pools)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), float(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    n = args.size
    label = ellipsoid(n, (n * 0.5, n * 0.5, n * 0.5), (n * 0.3, n * 0.25, n * 0.2), 0)
    pred = ellipsoid(n, (n * 0.52, n * 0.49, n * 0.5), (n * 0.29, n * 0.26, n * 0.21), 1)

    from clara_metrics.distance import ComputeHausdorffDistance, ComputeSurfaceDistance

    hd95, asd = ComputeHausdorffDistance("hd95"), ComputeSurfaceDistance("asd")
    results: dict[str, object] = {"benchmark": "metrics", "size": f"{n}^3",
                                  "spacing_mm": list(SPACING), "repeats": args.repeats}
    clara = {
        "hd95": median_time(lambda: hd95.score(pred, label, SPACING), args.repeats),
        "asd": median_time(lambda: asd.score(pred, label, SPACING), args.repeats),
    }
    results["clara_s"] = {k: round(v[0], 4) for k, v in clara.items()}
    results["clara_mm"] = {k: round(v[1], 4) for k, v in clara.items()}

    import SimpleITK as sitk

    def itk() -> float:
        a, b = (sitk.GetImageFromArray(m.astype(np.uint8)) for m in (pred, label))
        for img in (a, b):
            img.SetSpacing(list(reversed(SPACING)))
        f = sitk.HausdorffDistanceImageFilter()
        f.Execute(b, a)
        return f.GetHausdorffDistance()

    sitk_s, sitk_hd = median_time(itk, args.repeats)
    results["simpleitk_s"] = {"hd_and_average": round(sitk_s, 4)}
    faster = {"hd95": sitk_s, "asd": sitk_s}
    try:
        import torch
        from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance
    except ImportError:
        results["monai_s"] = "not installed (run: nox -s bench)"
    else:
        p = torch.from_numpy(pred[None, None].astype(np.float32))
        t = torch.from_numpy(label[None, None].astype(np.float32))
        monai = {
            "hd95": median_time(lambda: float(compute_hausdorff_distance(
                p, t, include_background=True, percentile=95, spacing=list(SPACING))),
                args.repeats),
            "asd": median_time(lambda: float(compute_average_surface_distance(
                p, t, include_background=True, symmetric=True, spacing=list(SPACING))),
                args.repeats),
        }
        results["monai_s"] = {k: round(v[0], 4) for k, v in monai.items()}
        results["monai_mm"] = {k: round(v[1], 4) for k, v in monai.items()}
        faster = {k: min(sitk_s, monai[k][0]) for k in faster}
    results["baseline"] = "the faster of MONAI and SimpleITK, same masks, same run"
    results["ratio"] = {k: round(clara[k][0] / faster[k], 3) for k in clara}
    results["goal"] = "ratio <= 1.0"
    print(json.dumps(results))


if __name__ == "__main__":
    main()
