"""Cost of MLflow tracking: the brain example trained with and without
``--tracking mlflow`` (clara-mlflow, the MMAR's embedded SQLite store).

Baseline: the same ``clara train`` without ``--tracking``, timed in the same run. Each
run is a process of its own on one copy of ``examples/brain-tissue-seg`` (its data
prepared from nilearn's files when the example has none), each with a run folder of
its own; the two sides alternate, after one warm-up run of each (the warm-up's
tracked run creates the store's schema, a one-time cost reported apart as
``first_use_s``). The figure is the median wall time of each side, start to exit.
Prints one JSON line; goal: ratio at most 1.02.

    python benchmarks/tracking.py [--repeats 5] [--epochs N]
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


def copy_example(target: Path) -> Path:
    """The example in ``target``, with its data (prepared there when it has none)."""
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("models*", "eval", "mlruns"))
    if not (target / "data" / "dataset.json").exists():
        subprocess.run([sys.executable, str(target / "prepare.py"), str(target / "data")],
                       check=True, capture_output=True)
    return target


def timed_run(mmar: Path, folder: str, tracked: bool, epochs: int | None) -> float:
    """Wall seconds of one ``clara train`` process (start to exit)."""
    sets = [f"MMAR_CKPT_DIR={folder}"] + ([f"epochs={epochs}"] if epochs else [])
    cmd = [sys.executable, "-m", "clara_core", "train", "-m", str(mmar), "--no-progress",
           "--set", *sets, *(["--tracking", "mlflow"] if tracked else [])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if out.returncode:
        sys.exit(f"clara train failed ({' '.join(cmd)}):\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
    if tracked and "warning" in out.stdout + out.stderr:
        sys.exit(f"tracking warned:\n{out.stdout[-2000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the example's epochs (default: its own)")
    args = parser.parse_args()
    try:
        import clara_mlflow  # noqa: F401
    except ImportError:
        sys.exit("install clara-mlflow first: pip install -e plugins/clara-mlflow")
    with tempfile.TemporaryDirectory() as tmp:
        mmar = copy_example(Path(tmp) / "brain")
        first_tracked = timed_run(mmar, "models_warm_tracked", True, args.epochs)
        first_plain = timed_run(mmar, "models_warm_plain", False, args.epochs)
        plain, tracked = [], []
        for i in range(args.repeats):  # interleaved, the order alternating
            sides = [(False, plain), (True, tracked)]
            for is_tracked, times in sides if i % 2 == 0 else sides[::-1]:
                folder = f"models_{'tracked' if is_tracked else 'plain'}_{i}"
                times.append(timed_run(mmar, folder, is_tracked, args.epochs))
        epochs = json.loads((mmar / "config" / "config_train.json").read_text())["epochs"]
    t, p = statistics.median(tracked), statistics.median(plain)
    from importlib.metadata import version

    print(json.dumps({
        "benchmark": "tracking",
        "what": f"examples/brain-tissue-seg, {args.epochs or epochs} epochs, clara train "
                "--tracking mlflow (embedded SQLite store) vs without",
        "tracked_s": round(t, 2), "plain_s": round(p, 2), "ratio": round(t / p, 4),
        "goal": "<= 1.02", "baseline": "the same clara train without --tracking",
        "statistic": "median wall time of a process, sides interleaved",
        "first_use_s": round(first_tracked - first_plain, 2),
        "tracked_all_s": [round(x, 2) for x in tracked],
        "plain_all_s": [round(x, 2) for x in plain], "repeats": args.repeats,
        "python": sys.version.split()[0], "mlflow": version("mlflow-skinny"),
    }))


if __name__ == "__main__":
    main()
