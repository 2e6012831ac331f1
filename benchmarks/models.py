"""Training-step time and peak memory of each catalog network, by data format and precision.

For every model, four variants at a fixed input size: float32 channels_last (the
baseline, named in each line), float32 channels_first, mixed precision
channels_last and mixed precision channels_first (bfloat16 on CPU, float16 on
GPU). Each variant runs in its own process (so peak memory is its own): build,
two warm-up steps (tracing), then the median of ``--steps`` Adam steps on one
batch. Peak memory is the GPU allocator's peak on a GPU, else the process's
maximum resident set. Prints one JSON line per model.

    python benchmarks/models.py [--steps 5] [--models Unet,SegResnet,...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SEGMENTATION = (2, (32, 32, 32), 1)      # batch, spatial, channels
CLASSIFICATION = (4, (96, 96), 3)
MODELS = {
    "Unet": (SEGMENTATION, {"num_classes": 3}),
    "SegResnet": (SEGMENTATION, {"num_classes": 3}),
    "DynUNet": (SEGMENTATION, {"num_classes": 3, "kernel_size": [3, 3, 3, 3],
                               "strides": [1, 2, 2, 2], "filters": [32, 64, 128, 256]}),
    "ResNet18": (CLASSIFICATION, {"num_classes": 2}),
    "ResNet50": (CLASSIFICATION, {"num_classes": 2}),
    "DenseNet121": (CLASSIFICATION, {"num_classes": 2}),
}
VARIANTS = [("float32", "channels_last"), ("float32", "channels_first"),
            ("mixed", "channels_last"), ("mixed", "channels_first")]


def one(name: str, precision: str, data_format: str, steps: int) -> dict[str, float]:
    import keras
    import numpy as np
    import tensorflow as tf

    from clara_core import BuildContext
    from clara_core.registry.registry import Registry

    gpu = bool(tf.config.list_logical_devices("GPU"))
    if precision == "mixed":
        keras.mixed_precision.set_global_policy("mixed_float16" if gpu else "mixed_bfloat16")
    (batch, spatial, channels), args = MODELS[name]
    shape = (channels, *spatial) if data_format == "channels_first" else (*spatial, channels)
    component = Registry().resolve("model", name)(**args, data_format=data_format)
    ctx = BuildContext({BuildContext.KEY_MODEL_INPUT: keras.Input(shape),
                        BuildContext.KEY_IS_TRAIN: True})
    model = keras.Model(ctx[BuildContext.KEY_MODEL_INPUT], component.build(ctx))
    optimizer = keras.optimizers.Adam(1e-4)
    if precision == "mixed" and gpu:
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch, *shape)).astype(np.float32))
    y = tf.constant(rng.random(model(x).shape).astype(np.float32))

    @tf.function
    def step() -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.cast(model(x, training=True), tf.float32) - y) ** 2)
            scaled = optimizer.scale_loss(loss) if hasattr(optimizer, "scale_loss") else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    for _ in range(2):
        float(step())
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        float(step())
        times.append(time.perf_counter() - t0)
    if gpu:
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"step_s": round(statistics.median(times), 4), "peak_mb": round(peak, 1),
            "device": "GPU" if gpu else "CPU"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "PRECISION", "FORMAT"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, steps=args.steps)))
        return
    for name in args.models.split(","):
        (batch, spatial, channels), _ = MODELS[name]
        line: dict[str, object] = {
            "benchmark": "models", "model": name,
            "input": f"batch {batch} x {'x'.join(map(str, spatial))} x {channels} channels",
            "baseline": "float32 channels_last, same model and input, same run"}
        results = {}
        for precision, data_format in VARIANTS:
            out = subprocess.run([sys.executable, __file__, "--one", name, precision,
                                  data_format, "--steps", str(args.steps)],
                                 capture_output=True, text=True)
            key = f"{precision}_{data_format}"
            if out.returncode:
                results[key] = {"error": out.stderr.strip().splitlines()[-1][:200]}
                continue
            results[key] = json.loads(out.stdout.strip().splitlines()[-1])
        line["variants"] = results
        base = results.get("float32_channels_last", {}).get("step_s")
        line["time_ratio_vs_baseline"] = {
            k: round(v["step_s"] / base, 3) for k, v in results.items()
            if base and "step_s" in v}
        line["device"] = next((v["device"] for v in results.values() if "device" in v), "?")
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
