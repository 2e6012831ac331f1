"""What a search found: a table of trials, the best trial MMAR, a picture.

``report.md`` and ``report.png`` (score per trial; parameter importance from Optuna's
own evaluator when at least two trials completed) go in ``automl/<run_id>/``; the
journal ``study.journal`` opens in Optuna Dashboard
(``optuna-dashboard automl/<run_id>/study.journal``).
"""

from __future__ import annotations

import os
from typing import Any

from clara_core.automl.study import counts

COLUMNS = ("trial", "state", "score", "epochs", "values")


def rows(study: Any) -> list[dict[str, Any]]:
    """One row per trial that counts (interrupted and surplus ones left out)."""
    out = []
    for t in study.get_trials(deepcopy=False):
        if not counts(t):
            continue
        shown = t.user_attrs.get("values") or {k.partition(":")[2] or k: v
                                                for k, v in t.params.items()}
        values = ", ".join(f"{k}={_fmt(v)}" for k, v in shown.items())
        score = t.value if t.value is not None else (
            t.intermediate_values[max(t.intermediate_values)] if t.intermediate_values else None)
        out.append({"trial": t.user_attrs.get("job", str(t.number)), "state": t.state.name,
                    "score": score, "epochs": t.user_attrs.get("epochs", ""), "values": values,
                    "error": t.user_attrs.get("error", "")})
    return out


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def table(study: Any) -> str:
    """The trials as a Markdown table.

    >>> class T: pass
    >>> table(type("S", (), {"get_trials": lambda self, deepcopy: []})())
    '| trial | state | score | epochs | values |\\n|---|---|---|---|---|'
    """
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows(study):
        score = "-" if r["score"] is None else f"{r['score']:.4f}"
        lines.append(f"| {r['trial']} | {r['state']} | {score} | {r['epochs']} | {r['values']} |")
    return "\n".join(lines)


def best(study: Any) -> Any:
    """The best complete trial, or None."""
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return max(done, key=lambda t: t.value) if done else None


def importances(study: Any) -> dict[str, float]:
    """Optuna's parameter importances (empty with fewer than two complete trials or
    a single parameter that never varied)."""
    import warnings

    import optuna
    from optuna.trial import TrialState

    if len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))) < 2:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "too few trials": the picture says it anyway
            return dict(optuna.importance.get_param_importances(study))
    except (RuntimeError, ValueError, ZeroDivisionError):
        return {}


def write_report(study: Any, run_dir: str, storage: str | None = None) -> str:
    """``report.md`` and ``report.png`` in ``run_dir``; the text to print."""
    top = best(study)
    imp = importances(study)
    lines = [f"# AutoML search {study.study_name}", "", table(study), ""]
    if top is not None:
        lines.append(f"best: {top.user_attrs.get('job')} score {top.value:.4f}, MMAR "
                     f"{os.path.join(run_dir, str(top.user_attrs.get('job')))} (rerun it: "
                     f"clara train -m {os.path.join(run_dir, str(top.user_attrs.get('job')))})")
    if imp:
        lines.append("parameter importance: " + ", ".join(
            f"{k.partition(':')[2] or k} {v:.2f}" for k, v in imp.items()))
    picture = _picture(study, imp, os.path.join(run_dir, "report.png"))
    where = storage or os.path.join(run_dir, "study.journal")
    lines += [f"picture: {picture}" if picture else "",
              f"study: {study.study_name} (optuna-dashboard {where})"]
    text = "\n".join(line for line in lines if line is not None)
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "report.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    return text


def _picture(study: Any, imp: dict[str, float], path: str) -> str | None:
    data = [r for r in rows(study) if r["score"] is not None]
    if not data:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2 if imp else 1, figsize=(10 if imp else 6, 4), squeeze=False)
    ax = axes[0][0]
    colors = {"COMPLETE": "tab:blue", "PRUNED": "tab:orange", "FAIL": "tab:red"}
    ax.bar(range(len(data)), [r["score"] for r in data],
           color=[colors.get(r["state"], "gray") for r in data])
    ax.set_xticks(range(len(data)), [r["trial"] for r in data], rotation=60, fontsize=7)
    ax.set_ylabel("score (key metric)")
    ax.set_title("score per trial (orange: pruned)")
    if imp:
        names = [k.partition(":")[2] or k for k in imp]
        axes[0][1].barh(names, list(imp.values()))
        axes[0][1].set_title("parameter importance (Optuna)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["best", "importances", "rows", "table", "write_report"]
