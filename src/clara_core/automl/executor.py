"""One trial: a standalone MMAR trained by the real ``clara train`` in its own process.

``automl/<run_id>/<job>/`` gets ``config/config_train.json`` (the concrete config),
``config/environment.json`` (the search's environment with its paths made absolute,
``MMAR_CKPT_DIR`` the trial's own ``models``) and a copy of the MMAR's ``custom/``;
``clara train -m <job>`` reruns it as it is. While it trains, each new line of its
``models/metrics.jsonl`` with the key metric is reported to Optuna; when the pruner
says so the trial gets SIGINT (``clara train`` stops after a checkpoint). A crash, a
NaN or an out-of-memory ends that process and fails that trial only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clara_core.atomic import atomic_write_json
from clara_core.mmar.run_folder import RunFolder

#: metrics.jsonl keys that are no validation metric
NOT_METRICS = ("epoch", "loss", "lr", "steps", "seconds")
#: the environment variable a trial's ``clara train`` sees: "<study journal or URL>#<trial>"
TRIAL_ENV = "CLARA_AUTOML_TRIAL"
POLL_S = 0.2


@dataclass
class TrialOutcome:
    """How a trial ended: ``state`` complete, pruned, failed or interrupted."""

    state: str
    score: float | None = None
    epochs: int = 0
    error: str = ""
    scores: list[float] = field(default_factory=list)


@dataclass
class Slot:
    """A worker's share of the machine: its GPU (None: none) and CPU cores."""

    gpu: str | None
    cores: list[int] = field(default_factory=list)

    def environ(self, base: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        if self.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.gpu
        if self.gpu is None and self.cores:
            threads = str(len(self.cores))
            for key in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
                env[key] = threads
            env["TF_NUM_INTEROP_THREADS"] = "1" if len(self.cores) < 4 else "2"
        return env


def slots(workers: list[str | None]) -> list[Slot]:
    """Each worker's slot; several CPU workers split this process's cores between them
(each pinned to its share, with as many threads).

    >>> [s.gpu for s in slots(["0", "0", "1"])]
    ['0', '0', '1']
    """
    cpus = sorted(os.sched_getaffinity(0))
    cpu_workers = [i for i, w in enumerate(workers) if w is None]
    out = [Slot(w) for w in workers]
    if len(cpu_workers) < 2:  # one trial on the CPU at a time: it has the whole machine
        return out
    for n, i in enumerate(cpu_workers):
        share = cpus[n::len(cpu_workers)] if len(cpus) >= len(cpu_workers) else cpus
        out[i].cores = share
    return out


def write_trial(job_dir: str, config: dict[str, Any], env: dict[str, Any],
                mmar_root: str) -> None:
    """The trial MMAR: concrete config, standalone environment, the MMAR's ``custom/``."""
    os.makedirs(os.path.join(job_dir, "config"), exist_ok=True)
    atomic_write_json(os.path.join(job_dir, "config", "config_train.json"), config)
    atomic_write_json(os.path.join(job_dir, "config", "environment.json"),
                      standalone_env(env, mmar_root))
    custom = os.path.join(mmar_root, "custom")
    if os.path.isdir(custom) and not os.path.exists(os.path.join(job_dir, "custom")):
        shutil.copytree(custom, os.path.join(job_dir, "custom"),
                        ignore=shutil.ignore_patterns("__pycache__"))


def standalone_env(env: dict[str, Any], mmar_root: str) -> dict[str, Any]:
    """The environment with relative paths that exist in the MMAR made absolute; the
    run's own folders (``MMAR_CKPT_DIR``, ``MMAR_EVAL_OUTPUT_PATH``) are the trial's.

    >>> standalone_env({"MMAR_ROOT": "/m", "MMAR_CKPT_DIR": "/m/models", "X": 1}, "/m")
    {'MMAR_CKPT_DIR': 'models', 'X': 1}
    """
    out: dict[str, Any] = {}
    for key, value in env.items():
        if key == "MMAR_ROOT":
            continue
        if key == "MMAR_CKPT_DIR":
            out[key] = "models"
        elif key == "MMAR_EVAL_OUTPUT_PATH":
            out[key] = "eval"
        elif isinstance(value, str) and value and not os.path.isabs(value) and \
                os.path.exists(os.path.join(mmar_root, value)):
            out[key] = os.path.abspath(os.path.join(mmar_root, value))
        else:
            out[key] = value
    return out


def key_metric(config: dict[str, Any]) -> str | None:
    """The name of the validation metric marked ``is_key_metric`` (else the first).

    >>> key_metric({"validate": {"metrics": [{"name": "A", "args": {"name": "a"}},
    ...     {"name": "B", "args": {"name": "b", "is_key_metric": True}}]}})
    'b'
    """
    metrics = (config.get("validate") or {}).get("metrics") or []
    named = [(m.get("args") or {}) for m in metrics if isinstance(m, dict)]
    named = [a for a in named if isinstance(a.get("name"), str)]
    key = next((a for a in named if a.get("is_key_metric") is True), None) or \
        (named[0] if named else None)
    return key["name"] if key else None


def _score(record: dict[str, Any], key: str | None) -> float | None:
    if key is None:
        key = next((k for k, v in record.items() if k not in NOT_METRICS and
                    not k.startswith("train_") and isinstance(v, (int, float))), None)
    value = record.get(key) if key else None
    return float(value) if isinstance(value, (int, float)) and value == value else None


Report = Callable[[float, int], bool]  # (score, epoch) -> prune now?


def run_trial(job_dir: str, slot: Slot, key: str | None, report: Report,
              extra_env: dict[str, str], log_to_console: bool,
              heartbeat: Callable[[], None] | None = None, tracking: list[str] | None = None
              ) -> TrialOutcome:
    """Train the trial MMAR at ``job_dir``; report each validation; the outcome."""
    folder = RunFolder(os.path.join(job_dir, "models"))
    cmd = [sys.executable, "-m", "clara_core", "train", "-m", job_dir, "--no-progress"]
    for name in tracking or []:
        cmd += ["--tracking", name]
    env = slot.environ({**os.environ, **extra_env})
    cores = slot.cores if slot.gpu is None else []
    with open(os.path.join(job_dir, "train.log"), "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL,
                                preexec_fn=(lambda: os.sched_setaffinity(0, cores))
                                if cores else None)
        outcome = _watch(proc, folder, key, report, heartbeat)
    if outcome.state == "failed":
        outcome.error = _tail(os.path.join(job_dir, "train.log"))
    if log_to_console:
        print(f"automl: {os.path.basename(job_dir)}: {outcome.state}"
              + (f", score {outcome.score:.4f}" if outcome.score is not None else ""), flush=True)
    return outcome


def _watch(proc: subprocess.Popen[bytes], folder: RunFolder, key: str | None, report: Report,
           heartbeat: Callable[[], None] | None) -> TrialOutcome:
    seen: list[float] = []
    epochs, offset, pruned, beat = 0, 0, False, time.monotonic()
    while True:
        done = proc.poll() is not None
        records, offset = _new_records(folder.metrics_log, offset)
        for record in records:
            epochs = max(epochs, int(record.get("epoch", 0)))
            score = _score(record, key)
            if score is None:
                continue
            seen.append(score)
            if not pruned and report(score, int(record.get("epoch", len(seen)))):
                pruned = True
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)  # stops after a checkpoint
        if done:
            break
        if heartbeat is not None and time.monotonic() - beat > 10:
            heartbeat()
            beat = time.monotonic()
        time.sleep(POLL_S)
    best = max(seen) if seen else None
    if pruned:
        return TrialOutcome("pruned", best, epochs, scores=seen)
    if proc.returncode == 0 and best is not None:
        return TrialOutcome("complete", best, epochs, scores=seen)
    if proc.returncode in (-signal.SIGINT, 130, -signal.SIGTERM, -signal.SIGKILL):
        return TrialOutcome("interrupted", best, epochs, scores=seen)
    why = "" if proc.returncode else "no validation metric in metrics.jsonl; "
    return TrialOutcome("failed", best, epochs, error=why, scores=seen)


def _new_records(path: str, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The complete lines written after ``offset`` (a resumed run rewrites the log: a
    shorter file starts again from 0)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return [], offset
    if size < offset:
        offset = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        f.seek(offset)
        text = f.read()
    end = text.rfind("\n") + 1
    records = []
    for line in text[:end].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, offset + len(text[:end].encode("utf-8"))


def _tail(path: str, lines: int = 6) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().strip().splitlines()
    except OSError:
        return ""
    errors = [t for t in text if "error" in t.lower()]
    return " | ".join(errors[-2:] if errors else text[-lines:])[-800:]


__all__ = ["TRIAL_ENV", "Slot", "TrialOutcome", "key_metric", "run_trial", "slots",
           "standalone_env", "write_trial"]
