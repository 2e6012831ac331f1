"""What holding TensorFlow's start-up lines to ``TF_CPP_MIN_LOG_LEVEL`` costs.

Baseline: ``import keras`` and TensorFlow's device probe in a fresh process, as
every ``clara`` command that trains, validates, infers or exports starts. Measured
against the same with ``clara_core.cli.tf_startup.quiet_tensorflow_startup()``
first (standard error caught into a temporary file during the import and probe,
filtered, written back). Each run is a process of its own; the two are interleaved
over ``--repeats`` rounds and the medians reported, with the start-up lines each
left on standard error. Goal: ratio at most 1.02, no start-up line left.

    python benchmarks/tf_startup.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

PROBE = "import keras, tensorflow as tf; tf.config.list_physical_devices()"
VARIANTS = {
    "plain": PROBE,
    "quiet": "from clara_core.cli.tf_startup import quiet_tensorflow_startup; "
             f"quiet_tensorflow_startup(); {PROBE}",
}
NATIVE = re.compile(r"^(WARNING: All log messages before absl|[IWEF]\d{4} )", re.M)


def run(code: str) -> tuple[float, int]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    return time.perf_counter() - t0, len(NATIVE.findall(out.stderr))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    for code in VARIANTS.values():
        run(code)  # warm the file cache for both
    times: dict[str, list[float]] = {k: [] for k in VARIANTS}
    lines: dict[str, int] = {}
    for _ in range(args.repeats):
        for name, code in VARIANTS.items():
            seconds, count = run(code)
            times[name].append(seconds)
            lines[name] = count
    plain, quiet = (statistics.median(times[k]) for k in ("plain", "quiet"))
    print(json.dumps({
        "benchmark": "tf_startup", "baseline": "import keras + device probe, stderr as is",
        "plain_s": round(plain, 3), "quiet_s": round(quiet, 3),
        "ratio": round(quiet / plain, 3), "goal": 1.02,
        "startup_lines_plain": lines["plain"], "startup_lines_quiet": lines["quiet"],
        "repeats": args.repeats, "statistic": "medians of interleaved runs, each a process "
        "of its own", "cpus": os.cpu_count()}))


if __name__ == "__main__":
    main()
