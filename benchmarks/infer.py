"""Sliding-window inference: the compiled ``TFScanWindowInferer`` against its floor, the
NumPy inferer it replaced, and the cost of mirroring TTA.

(a) engine: ``TFScanWindowInferer`` (Gaussian, overlap 0.5) on one volume, against
    the floor: the same number of window batches through the compiled model alone
    (no gathering, weighting or accumulation); goal <= 1.10.
(b) the same inferer in constant mode against the former NumPy loop (windows sliced
    in NumPy, one batch at a time to the model, averaged on the host): the speed-up.
(c) TTA with all 8 mirrorings of the three axes against none; goal <= 8.5.

The network is the brain example's 3D U-Net (filters 8, depth 3, 3 classes,
channels last, random weights). Each measurement runs in its own process after a
warm-up pass (tracing), sides interleaved, medians over ``--repeats``. The issue's
setting is ``--shape 256 256 160 --roi 96``; on a 2-core CPU that is minutes per
pass, so the default is ``--shape 128 128 80 --roi 48`` (the same 75 windows).

    python benchmarks/infer.py [--repeats 3] [--shape 128 128 80] [--roi 48]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

BATCH = 2
SIDES = ("floor", "engine", "numpy", "constant", "tta8")


def build_model():  # type: ignore[no-untyped-def]
    import keras
    from clara_models.unet import Unet

    from clara_core import BuildContext

    keras.utils.set_random_seed(0)
    inputs = keras.Input((None, None, None, 1))
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: False})
    net = Unet(num_classes=3, filters=8, depth=3, normalization="batch",
               data_format="channels_last")
    return keras.Model(inputs, net.build(ctx))


def numpy_inferer(predict, x, roi, overlap):  # type: ignore[no-untyped-def]
    """The former inferer: NumPy slicing, one window batch at a time, equal weights."""
    def starts(size: int, r: int) -> list[int]:
        step = max(int(r * (1 - overlap)), 1)
        return [0] if size <= r else sorted(set(range(0, size - r, step)) | {size - r})

    spatial = x.shape[1:-1]
    windows = list(itertools.product(*[starts(s, r) for s, r in zip(spatial, roi,
                                                                    strict=True)]))
    out = None
    count = np.zeros((1, *spatial, 1), np.float32)
    for i in range(0, len(windows), BATCH):
        boxes = [(slice(None), *[slice(a, a + r) for a, r in zip(w, roi, strict=True)])
                 for w in windows[i:i + BATCH]]
        batch = np.concatenate([x[b] for b in boxes])
        if len(boxes) < BATCH:  # the compiled model takes fixed batches
            batch = np.concatenate([batch, np.repeat(batch[-1:], BATCH - len(boxes), 0)])
        pred = np.asarray(predict(batch))
        if out is None:
            out = np.zeros((1, *spatial, pred.shape[-1]), np.float32)
        for j, b in enumerate(boxes):
            out[b] += pred[j:j + 1]
            count[b] += 1
    return out / count


def measure(side: str, shape: list[int], roi: int) -> float:
    """Seconds of one pass of ``side`` after a warm-up pass, in this process."""
    import tensorflow as tf

    from clara_core.builtins.inferers import TFScanWindowInferer
    from clara_core.builtins.sliding_window import window_starts

    model = build_model()
    rois = [roi] * 3
    x = np.random.default_rng(0).normal(size=(1, *shape, 1)).astype(np.float32)
    compiled = tf.function(lambda w: model(w, training=False), input_signature=[
        tf.TensorSpec([BATCH, *rois, 1], tf.float32)])
    if side == "floor":
        batches = math.ceil(len(window_starts(shape, rois, 0.5)) / BATCH)
        window = tf.constant(x[:, :roi, :roi, :roi].repeat(BATCH, 0))

        def run() -> None:
            for _ in range(batches):
                out = compiled(window)
            np.asarray(out)
    elif side == "numpy":
        def run() -> None:
            numpy_inferer(compiled, x, rois, 0.5)
    else:
        flips = [list(c) for n in (1, 2, 3) for c in itertools.combinations(range(3), n)]
        inferer = TFScanWindowInferer(
            roi_size=rois, overlap=0.5, sw_batch_size=BATCH,
            mode="constant" if side == "constant" else "gaussian",
            tta_flips=flips if side == "tta8" else None)

        def predict(w):  # type: ignore[no-untyped-def]
            return model(w, training=False)

        def run() -> None:
            inferer.infer(predict, x, "channels_last")
    run()  # warm-up: traces
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shape", type=int, nargs=3, default=[128, 128, 80])
    parser.add_argument("--roi", type=int, default=48)
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(measure(args.side, args.shape, args.roi)))
        return
    times: dict[str, list[float]] = {s: [] for s in SIDES}
    for _ in range(args.repeats):
        for side in SIDES:  # interleaved, each in a fresh process
            out = subprocess.run([sys.executable, __file__, "--side", side, "--shape",
                                  *map(str, args.shape), "--roi", str(args.roi)],
                                 capture_output=True, text=True, check=True)
            times[side].append(float(out.stdout.strip().splitlines()[-1]))
    from clara_core.builtins.sliding_window import window_starts

    med = {s: round(statistics.median(v), 3) for s, v in times.items()}
    print(json.dumps({
        "benchmark": "infer",
        "volume": "x".join(map(str, args.shape)), "roi": args.roi, "overlap": 0.5,
        "windows": len(window_starts(args.shape, [args.roi] * 3, 0.5)),
        "sw_batch_size": BATCH, "model": "brain example 3D U-Net (filters 8, depth 3)",
        "repeats": args.repeats, "statistic": "median seconds per pass over repeats",
        "seconds": med,
        "baseline": {"engine": "floor: the same window batches through the compiled model "
                               "alone", "constant": "the former NumPy sliding window",
                     "tta8": "the same inferer without TTA (engine)"},
        "ratio": {"engine_vs_floor": round(med["engine"] / med["floor"], 3),
                  "speedup_vs_numpy": round(med["numpy"] / med["constant"], 3),
                  "tta8_vs_none": round(med["tta8"] / med["engine"], 3)},
        "goal": "engine_vs_floor <= 1.10, tta8_vs_none <= 8.5",
    }))


if __name__ == "__main__":
    main()
