"""Startup cost of ``clara components list`` above a bare ``python -c pass``.

Baseline: ``python -c pass`` (the interpreter floor), timed in the same run.
Measured with the repository's plugins installed, then again with 300 extra
dummy distributions on the path (each with metadata and an entry-point file of
another group, as real environments have) plus the third-party example pack and
a plugin fresh from ``clara plugin new``. Also checks that TensorFlow does not
appear in ``python -X importtime`` for the command. Prints one JSON line.

    python benchmarks/startup.py [--repeats N]
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


def median_time(cmd: list[str], env: dict[str, str], repeats: int) -> float:
    subprocess.run(cmd, env=env, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def make_dummy_dists(folder: str, count: int) -> None:
    for i in range(count):
        info = os.path.join(folder, f"dummy_pkg_{i}-1.0.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as f:
            f.write(f"Metadata-Version: 2.1\nName: dummy-pkg-{i}\nVersion: 1.0\n")
        with open(os.path.join(info, "entry_points.txt"), "w") as f:
            f.write(f"[console_scripts]\ndummy-{i} = dummy_pkg_{i}:main\n")


def install_packs(target: str) -> list[str]:
    """pip-install examples/clara-pack-mri and a freshly generated plugin into ``target``."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as work:
        subprocess.run([sys.executable, "-m", "clara_core", "plugin", "new", "clara-bench-pack",
                        "--dir", work], check=True, capture_output=True)
        for source in (os.path.join(repo, "examples", "clara-pack-mri"),
                       os.path.join(work, "clara-bench-pack")):
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--no-build-isolation", "--disable-pip-version-check",
                            "--target", target, source], check=True, capture_output=True)
    return ["clara-pack-mri", "clara-bench-pack"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    clara = shutil.which("clara", path=os.path.dirname(sys.executable)) or shutil.which("clara")
    command = [clara, "components", "list"] if clara else [sys.executable, "-m", "clara_core",
                                                           "components", "list"]
    floor_cmd = [sys.executable, "-c", "pass"]
    env = dict(os.environ)
    floor = median_time(floor_cmd, env, args.repeats)
    plain = median_time(command, env, args.repeats)
    with tempfile.TemporaryDirectory() as extra:
        make_dummy_dists(extra, 300)
        packs = install_packs(extra)
        env300 = dict(env, PYTHONPATH=os.pathsep.join(filter(None, [extra,
                                                                    env.get("PYTHONPATH")])))
        floor300 = median_time(floor_cmd, env300, args.repeats)
        many = median_time(command, env300, args.repeats)
        listed300 = subprocess.run(command, env=env300, capture_output=True, text=True).stdout
    importtime = subprocess.run([sys.executable, "-X", "importtime", "-m", "clara_core",
                                 "components", "list"], env=env, capture_output=True, text=True,
                                check=True).stderr
    listed = subprocess.run(command, env=env, capture_output=True, text=True).stdout
    print(json.dumps({
        "benchmark": "startup",
        "command": "clara components list",
        "baseline": "python -c pass",
        "components_listed": max(len(listed.splitlines()) - 1, 0),
        "floor_s": round(floor, 4),
        "clara_s": round(plain, 4),
        "overhead_s": round(plain - floor, 4),
        "ratio": round(plain / floor, 2),
        "with_300_dists_and_packs": packs,
        "components_listed_with_packs": max(len(listed300.splitlines()) - 1, 0),
        "floor_300_dists_s": round(floor300, 4),
        "clara_300_dists_s": round(many, 4),
        "overhead_300_dists_s": round(many - floor300, 4),
        "ratio_300_dists": round(many / floor300, 2),
        "goal_overhead_s": 0.3,
        "tensorflow_imported": " tensorflow" in importtime,
        "repeats": args.repeats,
    }))


if __name__ == "__main__":
    main()
