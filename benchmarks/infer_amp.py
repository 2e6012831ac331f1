"""Half-precision inference (``clara infer --amp``) against float32: its error and speed.

Baseline: the same network and weights in float32, measured in the same run. The
network is a Unet (32 filters, depth 3, channels last) whose weights come from a
short fit (``--steps`` Adam steps on generated cube-in-noise volumes, so its outputs
are confident as a trained model's are), saved once; each side then runs in a
process of its own: it loads the weights, builds the model (the ``--amp`` side through
:func:`clara_core.mmar.model_shapes.in_precision`, as ``clara infer --amp`` does:
float16 on a GPU, bfloat16 on CPUs), predicts ``--volumes`` volumes of 96^3 in 64^3
windows (sliding window, batch 2) and writes the probabilities; the two sides
alternate ``--repeats`` times after a warm-up of each. Error: max and mean absolute
difference of the class probabilities, and the Dice of the argmax segmentations
(amp vs float32) on the foreground. Speed: the median time of the predictions, each
side; ratio = amp / float32 (below 1: faster). Prints one JSON line.

    python benchmarks/infer_amp.py [--repeats 3] [--volumes 2] [--steps 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROI, SIZE = 64, 96


def volumes(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` volumes (channels last) with a bright cube in noise, and their labels."""
    rng = np.random.default_rng(seed)
    images = rng.normal(scale=0.5, size=(n, size, size, size, 1)).astype(np.float32)
    labels = np.zeros((n, size, size, size), np.int32)
    for i in range(n):
        lo = rng.integers(size // 8, size // 2, size=3)
        hi = lo + rng.integers(size // 6, size // 3, size=3)
        labels[i, lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = 1
        images[i, ..., 0] += 2.0 * labels[i]
    return images, labels


def build() -> object:
    import keras
    from clara_models.unet import Unet

    from clara_core import BuildContext

    inputs = keras.Input((None, None, None, 1))
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: inputs, BuildContext.KEY_IS_TRAIN: False})
    net = Unet(num_classes=2, filters=32, depth=3, data_format="channels_last")
    return keras.Model(inputs, net.build(ctx))


def fit(path: str, steps: int) -> None:
    """The weights: ``steps`` Adam steps on 32^3 crops, saved to ``path``."""
    import keras

    keras.utils.set_random_seed(0)
    model = build()
    images, labels = volumes(8, 32, seed=1)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(images, labels, batch_size=2, epochs=max(1, steps // 4), verbose=0)
    model.save_weights(path)


def side(weights: str, amp: bool, n: int, out: str) -> None:
    """One side in this process: predictions of ``n`` volumes, timed after a warm-up."""
    from clara_core.builtins.inferers import TFScanWindowInferer
    from clara_core.mmar.model_shapes import CheckedPredict, in_precision
    from clara_core.workflow.runtime import has_gpu

    model = build()
    model.load_weights(weights)
    if amp:
        model = in_precision(model, "float16" if has_gpu() else "bfloat16")
    predict = CheckedPredict(model)
    inferer = TFScanWindowInferer(roi_size=[ROI] * 3, batch_size=2, overlap=0.25)
    images, _ = volumes(n, SIZE, seed=2)
    inferer.infer(predict, images[:1], "channels_last")  # warm-up: tracing
    t0 = time.perf_counter()
    probs = [np.asarray(inferer.infer(predict, images[i:i + 1], "channels_last"))
             for i in range(n)]
    seconds = time.perf_counter() - t0
    np.save(out, np.concatenate(probs))
    print(json.dumps({"seconds": seconds}))


def run_side(weights: str, amp: bool, n: int, out: str) -> float:
    done = subprocess.run([sys.executable, __file__, "--side", "amp" if amp else "float32",
                           "--weights", weights, "--volumes", str(n), "--out", out],
                          capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def dice(a: np.ndarray, b: np.ndarray) -> float:
    both = float(np.sum(a & b))
    total = float(np.sum(a) + np.sum(b))
    return 1.0 if total == 0 else 2 * both / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--volumes", type=int, default=2)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--side", choices=("amp", "float32"))
    parser.add_argument("--weights")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.side:
        side(args.weights, args.side == "amp", args.volumes, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "unet.weights.h5")
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                        f"import infer_amp; infer_amp.fit({weights!r}, {args.steps})"], check=True,
                       capture_output=True)
        outs = {k: os.path.join(tmp, f"{k}.npy") for k in ("float32", "amp")}
        times: dict[str, list[float]] = {"float32": [], "amp": []}
        for repeat in range(args.repeats + 1):  # the first round warms caches up
            for name in ("float32", "amp"):
                seconds = run_side(weights, name == "amp", args.volumes, outs[name])
                if repeat:
                    times[name].append(seconds)
        ref, half = np.load(outs["float32"]), np.load(outs["amp"])
    diff = np.abs(ref - half)
    seg_ref, seg_half = ref.argmax(-1) == 1, half.argmax(-1) == 1
    base, amp = statistics.median(times["float32"]), statistics.median(times["amp"])
    print(json.dumps({
        "benchmark": "infer_amp", "baseline": "float32 inference, same weights",
        "amp_dtype": "float16 (GPU) / bfloat16 (CPU)",
        "max_abs_error": round(float(diff.max()), 5),
        "mean_abs_error": round(float(diff.mean()), 6),
        "dice_agreement": round(dice(seg_ref, seg_half), 5),
        "voxels_disagreeing": int(np.sum(seg_ref != seg_half)),
        "foreground_voxels": int(seg_ref.sum()),
        "float32_s": round(base, 3), "amp_s": round(amp, 3),
        "ratio": round(amp / base, 3), "repeats": args.repeats,
        "volumes": f"{args.volumes} x {SIZE}^3 in {ROI}^3 windows"}))


if __name__ == "__main__":
    main()
