"""MLflow tracking for clara runs.

``clara train --tracking mlflow`` (or ``"tracking": ["mlflow"]`` in the config) logs
one MLflow run per training run: the resolved config and the versions as params, the
MMAR, host and run folder as tags, every value of ``metrics.jsonl`` with step =
epoch, and ``training.png`` and the validation reports as artifacts. The store is
``MLFLOW_TRACKING_URI`` when set, else an embedded SQLite store in ``<MMAR>/mlruns``.
The hooks are in :mod:`clara_mlflow.plugin`; nothing here imports MLflow.
"""

__version__ = "0.1.0"
