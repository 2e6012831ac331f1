"""``clara plan`` against the hand-written brain example, and the fingerprint's cost.

1. Dice and time: the brain example's data (prepared from nilearn's files) is planned
   with ``clara plan`` (defaults: the CPU profile when no GPU is found); the planned
   MMAR and the hand-written ``examples/brain-tissue-seg`` config are each trained by a
   ``clara train`` process of its own, alternating, ``--repeats`` times. Reported: the
   final validation mean Dice of each (median over repeats; the validation cases are
   the same right-hemisphere slabs) and the median wall time of a process, start to
   exit. Goal: planned Dice >= hand-written Dice in no more time.
2. Fingerprint vs the I/O floor: 100 generated NIfTI cases (48x56x40, image and label)
   are fingerprinted (``clara_core.plan.fingerprint``) and, as the baseline, read once
   each with the same loaders and the same threads; each side in a process of its own,
   interleaved, medians. Goal: ratio <= 1.5.

Prints one JSON line.

    python benchmarks/plan.py [--repeats 1] [--io-repeats 3] [--cases 100]
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
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "brain-tissue-seg"

IO_SIDE = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
from clara_core.plan.dataset import read_dataset
from clara_core.plan.fingerprint import LABEL_DTYPE, fingerprint, load
from clara_core.registry.registry import Registry
ds, registry = read_dataset(sys.argv[2]), Registry()
registry.loader_for("x.nii.gz")  # import the loaders before the clock starts
t0 = time.perf_counter()
if sys.argv[1] == "fingerprint":
    fingerprint(ds, registry, progress=False)
else:
    def read(case):
        load(registry, ds.path(case.image), "image").get_data()
        load(registry, ds.path(case.label), "label", LABEL_DTYPE).get_data()
    with ThreadPoolExecutor(min(8, __import__("os").cpu_count() or 1)) as pool:
        list(pool.map(read, ds.training))
print(time.perf_counter() - t0)
"""


def clara(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, "-m", "clara_core", *args], capture_output=True,
                         text=True, env=env)
    if out.returncode:
        sys.exit(f"clara {' '.join(args)} failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
    return out


def train(mmar: Path, folder: Path) -> tuple[float, float]:
    """Wall seconds of one ``clara train`` and its last validation's mean Dice."""
    t0 = time.perf_counter()
    clara("train", "-m", str(mmar), "--no-progress", "--set", f"MMAR_CKPT_DIR={folder}")
    seconds = time.perf_counter() - t0
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").open()]
    return seconds, [r["mean_dice"] for r in rows if "mean_dice" in r][-1]


def make_cases(root: Path, count: int) -> Path:
    import nibabel as nib
    import numpy as np

    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    items = []
    for i in range(count):
        rng = np.random.default_rng(i)
        label = np.zeros((48, 56, 40), np.uint8)
        label[10:30, 12:40, 8:30] = 1 + (i % 2)
        image = (label * 100 + rng.normal(0, 20, label.shape)).astype(np.float32)
        affine = np.diag([0.9, 0.9, 1.5, 1.0])
        nib.save(nib.Nifti1Image(image, affine), root / "images" / f"c{i}.nii.gz")
        nib.save(nib.Nifti1Image(label, affine), root / "labels" / f"c{i}.nii.gz")
        items.append({"image": f"images/c{i}.nii.gz", "label": f"labels/c{i}.nii.gz"})
    (root / "dataset.json").write_text(json.dumps({"training": items}))
    return root / "dataset.json"


def io_side(side: str, dataset: Path) -> float:
    out = subprocess.run([sys.executable, "-c", IO_SIDE, side, str(dataset)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--io-repeats", type=int, default=3)
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clara-plan-bench-"))
    try:
        hand = work / "hand"
        shutil.copytree(EXAMPLE, hand, ignore=shutil.ignore_patterns("models*", "eval", "data"))
        subprocess.run([sys.executable, str(hand / "prepare.py"), str(hand / "data")],
                       check=True, capture_output=True)
        t0 = time.perf_counter()
        clara("plan", "-d", str(hand / "data" / "dataset.json"), "-o", str(work / "planned"),
              "--no-progress")
        plan_s = time.perf_counter() - t0
        runs: dict[str, list[tuple[float, float]]] = {"planned": [], "hand": []}
        for r in range(args.repeats):
            for side in ("planned", "hand"):
                runs[side].append(train(work / side, work / f"models-{side}-{r}"))
        dataset = make_cases(work / "cases", args.cases)
        io_side("read", dataset)  # warm the page cache
        fp_s, read_s = [], []
        for _ in range(args.io_repeats):
            fp_s.append(io_side("fingerprint", dataset))
            read_s.append(io_side("read", dataset))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {side: (statistics.median(s for s, _ in v), statistics.median(d for _, d in v))
           for side, v in runs.items()}
    fp, floor = statistics.median(fp_s), statistics.median(read_s)
    print(json.dumps({
        "benchmark": "plan",
        "what": "examples/brain-tissue-seg data: clara plan's MMAR vs the hand-written config, "
                "each trained by its own clara train process; fingerprint of generated cases "
                "vs reading them once with the same loaders",
        "planned_dice": round(med["planned"][1], 4), "hand_dice": round(med["hand"][1], 4),
        "planned_train_s": round(med["planned"][0], 1), "hand_train_s": round(med["hand"][0], 1),
        "time_ratio": round(med["planned"][0] / med["hand"][0], 3),
        "dice_goal": "planned >= hand in no more time", "plan_s": round(plan_s, 2),
        "fingerprint_s": round(fp, 3), "io_floor_s": round(floor, 3),
        "fingerprint_ratio": round(fp / floor, 3), "fingerprint_goal": "<= 1.5",
        "cases": args.cases, "repeats": args.repeats, "io_repeats": args.io_repeats,
        "baseline": "hand-written config_train.json; reading every case once",
        "statistic": "medians of interleaved runs, each a process of its own",
        "cpus": os.cpu_count(), "python": sys.version.split()[0],
    }))


if __name__ == "__main__":
    main()
