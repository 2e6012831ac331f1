"""Scaling out: one process against two worker processes, and the multi-device feed.

1. Training: the same small MMAR (12 generated 64^3 cases, crops of 32^3, U-Net,
   global batch 4) trained by one ``clara train`` process (one device) and by two
   ``clara train`` processes joined by ``TF_CONFIG`` on localhost ports
   (``MultiWorkerMirroredStrategy``, one device each). Steady-state steps/s and
   crops/s from ``metrics.jsonl`` (median epoch time after the first epoch).
   ``efficiency`` = two workers' crops/s over one process's: 2 is perfect scaling
   on two machines; here both workers share this machine's cores, so it says what
   the collectives cost, not what a second host gives.
2. Feed: batches/s delivered to a ``MirroredStrategy`` over two logical CPU devices
   by the per-replica feed (threads + ``experimental_distribute_values_from_function``)
   against the ``tf.data`` generator bridge (``get_dataset`` +
   ``experimental_distribute_dataset``) it replaced.

Every variant runs in its own process; variants are interleaved over ``--repeats``
rounds and the medians reported. One JSON line.

    python benchmarks/scaling.py [--repeats 3] [--epochs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

CASES, SIZE, CROP, BATCH = 12, 64, 32, 4


def make_mmar(root: Path, epochs: int) -> Path:
    import nibabel as nib

    data = root / "data"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    grid = np.indices((SIZE,) * 3)
    items = []
    for i in range(CASES):
        centre = rng.integers(20, 44, 3)
        label = (sum((g - c) ** 2 for g, c in zip(grid, centre, strict=True)) < 12 ** 2)
        image = label * 1.0 + rng.normal(0, 0.3, label.shape)
        for kind, array in (("image", image.astype(np.float32)), ("label", label.astype(np.uint8))):
            nib.save(nib.Nifti1Image(array, np.eye(4)), data / f"{kind}{i}.nii.gz")
        items.append({"image": f"image{i}.nii.gz", "label": f"label{i}.nii.gz"})
    (data / "dataset.json").write_text(json.dumps({"training": items}))
    (root / "config").mkdir()
    (root / "config" / "environment.json").write_text(json.dumps(
        {"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", "MMAR_CKPT_DIR": "models"}))
    config = {
        "epochs": epochs, "learning_rate": 1e-3, "determinism": {"random_seed": 1},
        "train": {
            "loss": {"name": "Dice", "args": {"data_format": "channels_last"}},
            "optimizer": {"name": "Adam"},
            "model": {"name": "Unet", "args": {"num_classes": 2, "filters": 8, "depth": 3,
                                               "normalization": "instance",
                                               "data_format": "channels_last"}},
            "pre_transforms": [
                {"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
                {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}},
                {"name": "CropByPosNegRatio", "args": {"size": [CROP] * 3, "num_samples": 2}},
                {"name": "RandomSpatialFlip", "args": {"fields": ["image", "label"]}}],
            "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
                "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
                "output_batch_size": BATCH, "num_workers": 2,
                "output_data_format": "channels_last"}}}}
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return int(s.getsockname()[1])


def train(root: Path, workers: int, folder: str) -> dict[str, float]:
    """``clara train`` in ``workers`` processes; steady-state figures of the chief."""
    cluster = {"worker": [f"localhost:{free_port()}" for _ in range(workers)]}
    procs = []
    for index in range(workers):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        if workers > 1:
            env["TF_CONFIG"] = json.dumps({"cluster": cluster,
                                           "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "clara_core", "train", "-m", str(root), "--no-progress",
             "--set", f"MMAR_CKPT_DIR={folder}"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        if proc.returncode:
            raise RuntimeError(err.strip().splitlines()[-1] if err.strip() else "failed")
    records = [json.loads(line) for line in (root / folder / "metrics.jsonl").read_text()
               .splitlines()]
    epochs = [r for r in records if "seconds" in r][1:]  # the first compiles
    seconds = statistics.median(r["seconds"] for r in epochs)
    steps = epochs[0]["steps"]
    return {"steps_per_s": steps / seconds, "crops_per_s": steps * BATCH / seconds}


def feed(root: Path, kind: str, epochs: int) -> dict[str, float]:
    """Batches/s into a MirroredStrategy over two logical CPU devices."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from clara_transforms_basic.channels import ConvertToChannelsFirst
    from clara_transforms_basic.crop import CropByPosNegRatio
    from clara_transforms_basic.flip import RandomSpatialFlip
    from clara_transforms_basic.loaders.nifti import LoadNifti

    from clara_core.config.settings import TrainSettings
    from clara_core.data.segmentation import SegmentationImagePipeline
    from clara_core.workflow.placement import Placement

    placement = Placement.create(TrainSettings(), None, False,
                                 tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    pipeline = SegmentationImagePipeline("data/dataset.json", output_batch_size=BATCH,
                                         num_workers=2, prefetch_size=2)
    pipeline.set_root(str(root))
    pipeline.set_seed(0)
    pipeline.set_transforms([LoadNifti(fields=["image", "label"]),
                             ConvertToChannelsFirst(fields=["image", "label"]),
                             CropByPosNegRatio(size=[CROP] * 3, num_samples=2),
                             RandomSpatialFlip(["image", "label"])])
    if kind == "replica_feed":
        pipeline.set_shard(placement.local_replicas, placement.num_replicas)

    @tf.function
    def consume(images: Any, labels: Any) -> Any:
        def one(i: Any, la: Any) -> Any:
            return tf.reduce_sum(i) + tf.reduce_sum(la)
        return placement.strategy.run(one, args=(images, labels))

    def epoch(e: int) -> int:
        if kind == "replica_feed":
            batches = (placement.distribute(p) for p in pipeline.replica_feed(e))
        else:
            batches = iter(placement.strategy.experimental_distribute_dataset(
                pipeline.get_dataset(e)))
        n = 0
        for images, labels in batches:
            consume(images, labels)
            n += 1
        return n

    pipeline.cache_all()
    epoch(0)
    t0 = time.perf_counter()
    count = sum(epoch(e) for e in range(1, epochs + 1))
    return {"batches_per_s": count / (time.perf_counter() - t0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--one", choices=["replica_feed", "generator_bridge"])
    parser.add_argument("--data")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(feed(Path(args.data), args.one, args.epochs)))
        return
    runs: dict[str, list[dict[str, float]]] = {
        "one_process": [], "two_workers": [], "replica_feed": [], "generator_bridge": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = make_mmar(Path(tmp) / "mmar", args.epochs)
        for r in range(args.repeats):  # interleaved, so drift hits every variant alike
            runs["one_process"].append(train(root, 1, f"models_one{r}"))
            runs["two_workers"].append(train(root, 2, f"models_two{r}"))
            for kind in ("replica_feed", "generator_bridge"):
                out = subprocess.run([sys.executable, __file__, "--one", kind, "--data",
                                      str(root), "--epochs", str(args.epochs)],
                                     capture_output=True, text=True,
                                     env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
                if out.returncode:
                    raise RuntimeError(out.stderr.strip().splitlines()[-1])
                runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
    medians = {k: {m: round(statistics.median(r[m] for r in v), 3) for m in v[0]}
               for k, v in runs.items()}
    print(json.dumps({
        "benchmark": "scaling", "cpus": os.cpu_count(), "repeats": args.repeats,
        "statistic": "median over repeats",
        "training": f"{CASES} cases of {SIZE}^3, crops {CROP}^3, U-Net, global batch {BATCH}",
        **medians,
        "baseline": "one clara train process (training); tf.data generator bridge (feed)",
        "ratio": {
            "efficiency_two_workers": round(medians["two_workers"]["crops_per_s"]
                                            / medians["one_process"]["crops_per_s"], 3),
            "feed_vs_generator_bridge": round(medians["replica_feed"]["batches_per_s"]
                                              / medians["generator_bridge"]["batches_per_s"],
                                              3)},
        "note": "both workers share this machine's cores: efficiency 2 would need two hosts"}))


if __name__ == "__main__":
    main()
