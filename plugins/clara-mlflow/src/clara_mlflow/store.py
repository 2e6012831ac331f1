"""``Store``: where a run is logged, and the command that shows it.

``MLFLOW_TRACKING_URI`` when set (a database such as SQLite, a file store, or a
tracking server over HTTP); otherwise the embedded store of the MMAR: a SQLite file
in ``<MMAR>/mlruns/`` with the artifacts beside it, which needs no server and no
network.

>>> store = resolve("/data/spleen", environ={})
>>> store.kind, store.uri
('embedded', 'sqlite:////data/spleen/mlruns/mlflow.db')
>>> store.artifact_location
'file:///data/spleen/mlruns/artifacts'
>>> store.ui_command
'mlflow ui --backend-store-uri sqlite:////data/spleen/mlruns/mlflow.db --port 5000'
>>> resolve("/data/spleen", environ={"MLFLOW_TRACKING_URI": "http://mlflow:5000"}).ui_command
'open http://mlflow:5000 in a browser'
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

#: the embedded store's folder in the MMAR
EMBEDDED_DIR = "mlruns"

#: MLflow's settings this plugin gives a default (a value already set is kept): a
#: store that does not answer fails in seconds, not after MLflow's four minutes of
#: retries; MLflow prints no URLs of its own and sends no usage data from a
#: training job
MLFLOW_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}

_DATABASES = ("sqlite", "postgresql", "mysql", "mssql")


@dataclass(frozen=True)
class Store:
    """An MLflow tracking store: ``uri`` as MLflow takes it; ``kind`` one of
    ``embedded``, ``database``, ``file``, ``server``, ``other``;
    ``artifact_location`` for experiments this plugin creates (None: the store's
    default)."""

    uri: str
    kind: str
    artifact_location: str | None = None

    @property
    def ui_command(self) -> str:
        """What shows the store's runs."""
        if self.kind == "server":
            return f"open {self.uri} in a browser"
        return f"mlflow ui --backend-store-uri {shlex.quote(self.uri)} --port 5000"

    @property
    def hint(self) -> str:
        """What to check when the store fails."""
        if self.kind == "embedded":
            return "check that the MMAR is writable and has space"
        if self.kind == "server":
            return "check that the server runs and MLFLOW_TRACKING_URI"
        return "check MLFLOW_TRACKING_URI (unset, runs go to the MMAR's embedded store)"

    def describe(self) -> str:
        """The store in a few words, for the run's summary.

        >>> Store("file:///x/mlruns", "file").describe()
        'the file store file:///x/mlruns'
        """
        words = {"embedded": "the MMAR's embedded store", "database": "the database",
                 "file": "the file store", "server": "the tracking server"}
        return f"{words.get(self.kind, 'the store')} {self.uri}"


def resolve(mmar: str, environ: Mapping[str, str] | None = None) -> Store:
    """The store of a run on ``mmar``: ``MLFLOW_TRACKING_URI`` of ``environ`` (default:
    the process's environment), else the MMAR's embedded store. A plain path is a file
    store (made absolute, so that ``mlflow ui`` finds it from any folder).

    >>> resolve("/m", environ={"MLFLOW_TRACKING_URI": "/runs/mlruns"})
    Store(uri='file:///runs/mlruns', kind='file', artifact_location=None)
    >>> resolve("/m", environ={"MLFLOW_TRACKING_URI": "sqlite:////runs/db.sqlite"})
    Store(uri='sqlite:////runs/db.sqlite', kind='database', artifact_location='file:///runs/artifacts')
    """
    environ = os.environ if environ is None else environ
    uri = (environ.get("MLFLOW_TRACKING_URI") or "").strip()
    if not uri:
        root = Path(os.path.abspath(mmar)) / EMBEDDED_DIR
        return Store(f"sqlite:///{(root / 'mlflow.db').as_posix()}", "embedded",
                     (root / "artifacts").as_uri())
    scheme = uri.partition(":")[0].lower() if "://" in uri or uri.startswith("file:") else ""
    if not scheme:  # a path
        return Store(Path(os.path.abspath(os.path.expanduser(uri))).as_uri(), "file")
    if scheme == "file":
        return Store(uri, "file")
    if scheme in ("http", "https"):
        return Store(uri.rstrip("/"), "server")
    if scheme.split("+")[0] in _DATABASES:
        return Store(uri, "database", _beside_database(uri))
    return Store(uri, "other")


def _beside_database(uri: str) -> str | None:
    """Artifacts of a SQLite store beside its file (MLflow's default is the working
    folder of whoever creates the experiment); other databases: the server's default.

    >>> _beside_database("sqlite:///:memory:") is None, _beside_database("mysql://h/db")
    (True, None)
    """
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///"):]
    if not path or path.startswith(":memory:"):
        return None
    return (Path(os.path.abspath(path)).parent / "artifacts").as_uri()


def prepare_environment(store: Store, environ: MutableMapping[str, str] | None = None
                        ) -> list[str]:
    """Give MLflow's settings their defaults (:data:`MLFLOW_DEFAULTS`) and, for a file
    store, allow it (MLflow 3 refuses file stores unless ``MLFLOW_ALLOW_FILE_STORE``);
    returns the notes to print (what was switched on for the user).

    >>> env = {}
    >>> prepare_environment(Store("file:///x", "file"), env)
    ['MLflow deprecates file stores; MLFLOW_ALLOW_FILE_STORE=true was set for this run (a database such as sqlite:///mlflow.db is the lasting choice)']
    >>> env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"], env["MLFLOW_ALLOW_FILE_STORE"]
    ('1', 'true')
    """
    environ = os.environ if environ is None else environ
    for name, value in MLFLOW_DEFAULTS.items():
        environ.setdefault(name, value)
    notes = []
    if store.kind == "file" and "MLFLOW_ALLOW_FILE_STORE" not in environ:
        environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        notes.append("MLflow deprecates file stores; MLFLOW_ALLOW_FILE_STORE=true was set for "
                     "this run (a database such as sqlite:///mlflow.db is the lasting choice)")
    return notes


def experiment_name(mmar: str, environ: Mapping[str, str] | None = None) -> str:
    """``MLFLOW_EXPERIMENT_NAME`` when set, else the MMAR's folder name.

    >>> experiment_name("/data/spleen/", environ={})
    'spleen'
    """
    environ = os.environ if environ is None else environ
    return environ.get("MLFLOW_EXPERIMENT_NAME") or os.path.basename(
        os.path.normpath(os.path.abspath(mmar))) or "clara"


__all__ = ["EMBEDDED_DIR", "MLFLOW_DEFAULTS", "Store", "experiment_name", "prepare_environment",
           "resolve"]
