"""Random-suffix workers: threads (the engine's choice) against processes.

The workload of ``pipeline_vs_monai.py`` (16 CT-like 160x160x96 cases; crops of
64^3 by pos/neg ratio, 4 per case, flip, intensity shift; batches of 2), cache
built once. Then the same epochs three ways, with ``--workers`` workers each:

- threads: the engine as it is (``SegmentationImagePipeline.batches``);
- processes: a ``fork`` pool started after the cache is built, so the cached
  volumes are shared with the workers copy-on-write (no copy, no pickling of the
  cache), each worker running the same ``case_samples``; the crops come back
  pickled, as with any process pool (PyTorch's DataLoader included);
- serial: one thread, the floor both are measured against.

One JSON line with crops/s (median over ``--repeats`` interleaved runs) and the
ratio threads/processes.

    python benchmarks/workers_threads_vs_processes.py [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from pipeline_vs_monai import (  # noqa: E402
    BATCH,
    CASES,
    CROP,
    SAMPLES,
    SHAPE,
    clara_pipeline,
    make_cases,
)

_PIPELINE: Any = None  # the forked workers' copy (shared pages) of the cached pipeline


def build(folder: str, workers: int) -> Any:
    pipeline = clara_pipeline(folder, workers, prefetch=1)
    pipeline.cache_all()
    return pipeline


def _case(args: tuple[int, int]) -> list[dict[str, np.ndarray]]:
    epoch, index = args
    return [{k: np.ascontiguousarray(v) for k, v in s.items()}
            for s in _PIPELINE.case_samples(epoch, index)]


def batches_from_processes(pool: Any, pipeline: Any, epoch: int) -> int:
    crops, images = 0, []
    order = [(epoch, i) for i in pipeline.epoch_order(epoch)]
    for samples in pool.imap(_case, order, chunksize=1):
        for s in samples:
            images.append(s["image"])
            if len(images) == BATCH:
                crops += len(np.stack(images))
                images = []
    return crops


def batches_from_threads(pipeline: Any, epoch: int) -> int:
    return sum(len(images) for images, _ in pipeline.batches(epoch))


def main() -> None:
    global _PIPELINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"threads": [], "processes": [], "serial": []}
    with tempfile.TemporaryDirectory() as folder:
        make_cases(folder)
        threaded, serial = build(folder, args.workers), build(folder, 1)
        _PIPELINE = threaded
        pool = multiprocessing.get_context("fork").Pool(args.workers)
        pool.map(_case, [(0, i) for i in range(args.workers)])  # workers up and warm
        epoch = 1
        for _ in range(args.repeats):  # interleaved, so drift hits every variant alike
            for name in rates:
                t0 = time.perf_counter()
                crops = 0
                for _ in range(args.epochs):
                    if name == "processes":
                        crops += batches_from_processes(pool, threaded, epoch)
                    else:
                        crops += batches_from_threads(threaded if name == "threads" else serial,
                                                      epoch)
                    epoch += 1
                rates[name].append(crops / (time.perf_counter() - t0))
        pool.close()
        pool.join()
    med = {k: round(statistics.median(v), 1) for k, v in rates.items()}
    print(json.dumps({
        "benchmark": "workers_threads_vs_processes", "workers": args.workers,
        "cases": f"{CASES} x {'x'.join(map(str, SHAPE))}",
        "crops": f"{SAMPLES} x {CROP}^3 per case, batch {BATCH}", "repeats": args.repeats,
        "statistic": "median crops/s over repeats", "crops_per_s": med,
        "baseline": "fork process pool sharing the cache copy-on-write",
        "ratio": {"threads_vs_processes": round(med["threads"] / med["processes"], 3),
                  "threads_vs_serial": round(med["threads"] / med["serial"], 3),
                  "processes_vs_serial": round(med["processes"] / med["serial"], 3)},
        "choice": "threads" if med["threads"] >= med["processes"] else "processes"}))


if __name__ == "__main__":
    main()
