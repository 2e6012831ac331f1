"""GPU check: the brain example trained on one GPU in float32, with ``use_amp``
(float16 compute, loss scaling) and with ``multi_gpu: true``, beside the CPU.

Each variant is one ``clara train`` process on a copy of
``examples/brain-tissue-seg`` (prepare it first: ``python
examples/brain-tissue-seg/prepare.py``, what ``nox -s demo`` runs); the figures are
the median epoch time after the first epoch, steps/s and images/s (crops of 32^3).
Without a GPU only the CPU line is measured and the GPU variants say so. One JSON
line; it never runs in the tests.

    python benchmarks/gpu_check.py [--epochs 12]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "brain-tissue-seg"
VARIANTS = {
    "cpu": (["CUDA_VISIBLE_DEVICES="], []),
    "gpu_float32": ([], []),
    "gpu_amp_float16": ([], ["use_amp=true", "amp_dtype=float16"]),
    "gpu_multi_gpu": ([], ["multi_gpu=true"]),
}


def gpus() -> int:
    out = subprocess.run([sys.executable, "-c", "import tensorflow as tf; print(len("
                          "tf.config.list_physical_devices('GPU')))"], capture_output=True,
                         text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return int(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else 0


def run(mmar: Path, name: str, epochs: int) -> dict[str, float | str]:
    env_sets, sets = VARIANTS[name]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    for pair in env_sets:
        key, value = pair.split("=", 1)
        env[key] = value
    folder = f"models_{name}"
    out = subprocess.run(
        [sys.executable, "-m", "clara_core", "train", "-m", str(mmar), "--no-progress",
         "--set", f"MMAR_CKPT_DIR={folder}", f"epochs={epochs}",
         "num_training_epoch_per_valid=1000", *sets],
        capture_output=True, text=True, env=env)
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    records = [json.loads(line) for line in (mmar / folder / "metrics.jsonl").read_text()
               .splitlines()]
    epochs_done = [r for r in records if "seconds" in r][1:]
    seconds = statistics.median(r["seconds"] for r in epochs_done)
    steps = epochs_done[0]["steps"]
    batch = json.loads((mmar / "config" / "config_train.json").read_text())[
        "train"]["image_pipeline"]["args"]["output_batch_size"]
    return {"step_ms": round(1000 * seconds / steps, 2),
            "steps_per_s": round(steps / seconds, 2),
            "images_per_s": round(steps * batch / seconds, 1),
            "final_loss": round(epochs_done[-1]["loss"], 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args()
    if not (EXAMPLE / "data" / "dataset.json").exists():
        sys.exit(f"prepare the example first: python {EXAMPLE / 'prepare.py'}")
    found = gpus()
    line: dict[str, object] = {"benchmark": "gpu_check", "gpus": found, "epochs": args.epochs,
                               "statistic": "median epoch after the first"}
    with tempfile.TemporaryDirectory() as tmp:
        mmar = Path(tmp) / "mmar"
        shutil.copytree(EXAMPLE, mmar, ignore=shutil.ignore_patterns("models*", "eval"))
        for name in VARIANTS:
            needs = 2 if name == "gpu_multi_gpu" else 1 if name.startswith("gpu") else 0
            line[name] = run(mmar, name, args.epochs) if found >= needs else {
                "skipped": f"needs {needs} GPU(s), {found} visible"}
    cpu = line["cpu"]
    if isinstance(cpu, dict) and "images_per_s" in cpu:
        line["ratio"] = {f"{k}_vs_cpu": round(v["images_per_s"] / cpu["images_per_s"], 2)
                         for k, v in line.items()
                         if k.startswith("gpu_") and isinstance(v, dict) and "images_per_s" in v}
    line["baseline"] = "the same example on this machine's CPU"
    print(json.dumps(line))


if __name__ == "__main__":
    main()
