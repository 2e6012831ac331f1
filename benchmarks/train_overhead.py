"""Per-step cost of clara's training engine against a hand-written ``tf.function`` step.

Baseline: the loop a researcher writes by hand: a ``tf.function`` with a
``GradientTape``, the same Keras model (a clone with the same weights), the same
loss component and a fresh Adam, over the same preloaded batches held as tensors.
Engine: ``EpochLoop.run_epoch`` of the built setup as ``clara train`` runs it
(distribution strategy, per-step loss fetch and NaN check, state bookkeeping, handler
events), fed ``tf.data`` over the preloaded arrays through its public ``batches``
argument, with the progress bar off. Both warm up (trace) first, then run
alternately ``--repeats`` times; the figure is the median time per step.
Prints one JSON line; goal: ratio at most 1.05.

    python benchmarks/train_overhead.py [--repeats 7] [--steps 16] [--crop 32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402


def write_mmar(root: str, crop: int, batch: int) -> None:
    """A minimal MMAR: two generated cases; the brain example's network, loss, optimizer."""
    os.makedirs(os.path.join(root, "config"))
    rng = np.random.default_rng(0)
    items = []
    for i in range(2):
        label = (rng.random((crop + 8,) * 3) > 0.7).astype(np.uint8) * 2
        image = (label + rng.normal(size=label.shape)).astype(np.float32)
        for kind, data in (("image", image), ("label", label)):
            nib.save(nib.Nifti1Image(data, np.eye(4)), os.path.join(root, f"{kind}{i}.nii.gz"))
        items.append({"image": f"image{i}.nii.gz", "label": f"label{i}.nii.gz"})
    with open(os.path.join(root, "dataset.json"), "w") as f:
        json.dump({"training": items}, f)
    config = {
        "epochs": 1, "learning_rate": 1e-3, "determinism": {"random_seed": 0},
        "train": {
            "loss": {"name": "Dice", "args": {"data_format": "channels_last",
                                              "skip_background": True}},
            "optimizer": {"name": "Adam"},
            "model": {"name": "Unet", "args": {"num_classes": 3, "filters": 8, "depth": 3,
                                               "data_format": "channels_last"}},
            "pre_transforms": [
                {"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
                {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}},
                {"name": "CropByPosNegRatio", "args": {"size": [crop] * 3, "num_samples": 2}},
            ],
            "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
                "data_list_file_path": "dataset.json", "output_batch_size": batch,
                "output_data_format": "channels_last"}},
        },
    }
    with open(os.path.join(root, "config", "config_train.json"), "w") as f:
        json.dump(config, f)


def build_setup(crop: int, batch: int) -> Any:
    """The engine's setup of the generated MMAR, as ``clara train`` builds it."""
    from clara_core.config.builder import build_config
    from clara_core.config.loader import load_config, locate
    from clara_core.workflow.trainer import Trainer

    with tempfile.TemporaryDirectory() as root:
        write_mmar(root, crop, batch)
        config, env, mmar = locate(root, None, None)
        trainer = Trainer(build_config(load_config(config, env, [], mmar)),
                          log=lambda *a: None, progress=False)
        return trainer.build()


def engine_epoch_of(setup: Any, images: np.ndarray, labels: np.ndarray,
                    batch: int) -> Callable[[], None]:
    """One epoch of the engine's loop over the preloaded arrays (``tf.data``), fed
    through ``EpochLoop.run_epoch(batches=...)``; each epoch starts from a fresh state."""
    import tensorflow as tf

    from clara_core.components.run_state import RunState
    from clara_core.workflow.epoch_loop import EpochLoop, feed_options

    def engine_epoch() -> None:
        dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch)
        loop = EpochLoop(setup, RunState(log=lambda line: None))
        loop.run_epoch(0, batches=dataset.with_options(feed_options()))

    return engine_epoch


def baseline_epoch_of(setup: Any, images: np.ndarray, labels: np.ndarray,
                      batch: int) -> Callable[[], None]:
    """One epoch of a hand-written ``tf.function`` step over preloaded tensors: a clone
    of the engine's model (same weights), its loss component and a fresh Adam."""
    import keras
    import tensorflow as tf

    model = keras.models.clone_model(setup.model)
    model.set_weights(setup.model.get_weights())
    optimizer = keras.optimizers.Adam(1e-3)
    loss_fn, ctx = setup.loss.get_loss, setup.ctx
    batches = [(tf.constant(images[i:i + batch]), tf.constant(labels[i:i + batch]))
               for i in range(0, len(images), batch)]

    @tf.function
    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = loss_fn(model(x, training=True), y, ctx)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    def baseline_epoch() -> None:
        loss = None
        for x, y in batches:
            loss = step(x, y)
        float(loss)

    return baseline_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--crop", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args()

    import tensorflow as tf

    setup = build_setup(args.crop, args.batch)
    rng = np.random.default_rng(1)
    n, shape = args.steps * args.batch, (args.crop,) * 3
    images = rng.normal(size=(n, *shape, 1)).astype(np.float32)
    labels = rng.integers(0, 3, size=(n, *shape, 1)).astype(np.float32)
    engine_epoch = engine_epoch_of(setup, images, labels, args.batch)
    baseline_epoch = baseline_epoch_of(setup, images, labels, args.batch)

    def timed(fn: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) / args.steps

    engine_epoch(), baseline_epoch()  # trace both
    engine, baseline = [], []
    for _ in range(args.repeats):
        engine.append(timed(engine_epoch))
        baseline.append(timed(baseline_epoch))
    e, b = statistics.median(engine), statistics.median(baseline)
    print(json.dumps({
        "benchmark": "train_overhead",
        "what": f"3D U-Net (8 filters, depth 3), batch {args.batch} x {args.crop}^3, Dice, Adam",
        "engine_step_s": round(e, 5), "baseline_step_s": round(b, 5),
        "baseline": "hand-written tf.function step, same model/loss/optimizer, preloaded batches",
        "ratio": round(e / b, 4), "goal": "<= 1.05", "steps": args.steps,
        "repeats": args.repeats, "device": "GPU" if tf.config.list_logical_devices("GPU")
        else "CPU", "python": sys.version.split()[0], "tensorflow": tf.__version__,
    }))


if __name__ == "__main__":
    main()
