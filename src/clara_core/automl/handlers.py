"""The SDK's built-in AutoML handlers, for ``config_automl.json``'s ``handlers``."""

from __future__ import annotations

import os
from typing import Any

from clara_core.automl.sdk import Context, ContextKey, Handler


class MMARHandler(Handler):
    """The trial MMARs: ``stop_threshold`` ends the search when a score reaches it;
    ``num_mmars_to_keep`` keeps the weights of the best trials and, at the end, removes
    only the weights the search itself wrote from the others (their configs, metrics
    and logs stay). ``train_config_file`` is the searched config (``trainconf``);
    ``work_dir`` where trials go (default ``automl/<run_id>`` in the MMAR);
    ``key_mmar_content_only`` is accepted (a trial MMAR holds only config/ and models/).
    """

    no_effect_args = {
        "key_mmar_content_only": "a trial MMAR holds only config/, models/ and its log",
        "work_dir": "trials are written to automl/<run_id>/ in the MMAR",
    }

    def __init__(self, num_mmars_to_keep: int = 30, stop_threshold: float | None = None,
                 train_config_file: str = "") -> None:
        self.num_mmars_to_keep = num_mmars_to_keep
        self.stop_threshold = stop_threshold
        self.train_config_file = train_config_file

    def end_job(self, ctx: Context) -> None:
        score = ctx.get_prop(ContextKey.SCORE)
        if self.stop_threshold is not None and score is not None and \
                score >= self.stop_threshold:
            ctx.stop_work(self, f"{ctx.get_prop(ContextKey.JOB_NAME)} scored {score:.4f}, "
                                f"at or above stop_threshold {self.stop_threshold}")

    def shutdown(self, ctx: Context) -> None:
        scored: list[tuple[float, str]] = ctx.get_prop("_scoredMmars", [])
        ranked = sorted(scored, key=lambda s: -s[0])
        for _, root in ranked[self.num_mmars_to_keep:]:
            remove_search_weights(os.path.join(root, "models"))


def remove_search_weights(models: str) -> list[str]:
    """Remove the weights a trial's training wrote in ``models`` (``model_*.weights.h5``,
    ``model_final.keras``, resume bundles); nothing else."""
    from clara_core.mmar.run_folder import WEIGHTS, RunFolder

    folder = RunFolder(models)
    names = [*map(folder.weights, WEIGHTS), folder.keras_model]
    if os.path.isdir(models):
        names += [os.path.join(models, n) for n in os.listdir(models)
                  if folder.is_resume_bundle(n)]
    removed = [p for p in names if os.path.isfile(p)]
    for path in removed:
        os.remove(path)
    return removed


class StatsHandler(Handler):
    """One line per finished job: its name, score and state."""

    def end_job(self, ctx: Context) -> None:
        score = ctx.get_prop(ContextKey.SCORE)
        shown = "-" if score is None else f"{score:.4f}"
        print(f"automl: {ctx.get_prop(ContextKey.JOB_NAME)} ended: score {shown} "
              f"({ctx.get_prop(ContextKey.JOB_STATUS)})", flush=True)


class MMARStatsHandler(Handler):
    """The SDK's per-MMAR statistics: where each finished trial's MMAR is (the score
    line is :class:`StatsHandler`'s; configs list both)."""

    def end_job(self, ctx: Context) -> None:
        print(f"automl: {ctx.get_prop(ContextKey.JOB_NAME)} MMAR "
              f"{ctx.get_prop(ContextKey.JOB_MMAR_ROOT)}", flush=True)


class MMARTensorboardHandler(Handler):
    """Each trial writes TensorBoard logs in its ``models/logs``; this says how to see
    them all: ``tensorboard --logdir automl/<run_id>``."""

    def startup(self, ctx: Context) -> None:
        root: Any = ctx.get_prop(ContextKey.RUN_ROOT)
        print(f"automl: TensorBoard of every trial: tensorboard --logdir {root}", flush=True)


__all__ = ["MMARHandler", "MMARStatsHandler", "MMARTensorboardHandler", "StatsHandler",
           "remove_search_weights"]
