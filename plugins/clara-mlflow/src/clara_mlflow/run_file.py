"""``mlflow.json`` in the run folder's ``plugins/``: which MLflow run a training run
logs to, so that ``clara train --resume`` continues it.

It is written before the MLflow run exists (``uid``, a tag the run will carry) and
again once it does (``run_id``): a run killed between the two is still found again
by its tag.

>>> import tempfile, os
>>> folder = tempfile.mkdtemp()
>>> path = os.path.join(folder, "plugins", "mlflow.json")
>>> write(path, RunRecord(uid="u1", tracking_uri="sqlite:///db"))
>>> read(path)
RunRecord(uid='u1', tracking_uri='sqlite:///db', experiment_id=None, run_id=None)
>>> read(os.path.join(folder, "none.json")) is None
True
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass

FILE_NAME = "mlflow.json"


@dataclass(frozen=True)
class RunRecord:
    uid: str
    tracking_uri: str
    experiment_id: str | None = None
    run_id: str | None = None


def read(path: str) -> RunRecord | None:
    """The record at ``path``, or None (no file, or one that does not read)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return RunRecord(uid=str(data["uid"]), tracking_uri=str(data["tracking_uri"]),
                         experiment_id=data.get("experiment_id"), run_id=data.get("run_id"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(path: str, record: RunRecord) -> None:
    """Write ``record`` whole or not at all (a kill -9 leaves the old one)."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-mlflow-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(record), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


__all__ = ["FILE_NAME", "RunRecord", "read", "write"]
