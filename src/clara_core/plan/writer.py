"""The MMAR ``clara plan`` writes: configs, environment, the fold's datalist, the
cross-validation splits and the plan files. An existing MMAR is never overwritten
without ``force``; each file is written under a temporary name and renamed."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, is_dataclass
from typing import Any

import numpy as np

from clara_core.atomic import atomic_write_json
from clara_core.plan import configs
from clara_core.plan.dataset import Case, Dataset, PlanError
from clara_core.plan.fingerprint import Fingerprint
from clara_core.plan.planner import Options, Plan
from clara_core.plan.rules import Decision

#: the files a planned MMAR holds, relative to it
FILES = ("config/config_train.json", "config/config_validation.json",
         "config/environment.json", "config/datalist.json", "plan/fingerprint.json",
         "plan/plan.json", "plan/splits.json", "config/config_automl.json")
SPLIT_SEED = 12345


@dataclass(frozen=True)
class Split:
    training: list[Case]
    validation: list[Case]
    decision: Decision


def splits(cases: list[Case], folds: int, seed: int = SPLIT_SEED) -> list[dict[str, list[str]]]:
    """``folds`` cross-validation splits of ``cases`` by name (shuffled with ``seed``).

    >>> s = splits([Case(str(i), f"{i}.nii") for i in range(5)], 2)
    >>> [len(f["train"]) for f in s], sorted(s[0]["val"] + s[1]["val"])
    ([2, 3], ['0', '1', '2', '3', '4'])
    """
    order = np.random.default_rng(seed).permutation(len(cases))
    parts = np.array_split(order, folds)
    return [{"train": sorted(cases[j].name for k, p in enumerate(parts) if k != i for j in p),
             "val": sorted(cases[j].name for j in part)} for i, part in enumerate(parts)]


def choose_split(dataset: Dataset, options: Options) -> tuple[Split, list[dict[str, Any]]]:
    """The fold to train: the dataset's own validation list unless ``--folds`` was given."""
    cases = dataset.training
    if dataset.validation and options.folds is None and options.fold == 0:
        return Split(cases, dataset.validation, Decision(
            "dataset", f"the dataset's own {len(dataset.validation)} validation case(s); "
                       "--folds N to cross-validate instead")), []
    folds = options.folds or 5
    if len(cases) < 2:
        raise PlanError(f"{dataset.source}: {len(cases)} training case(s): cross-validation "
                        "needs at least 2 (or give a 'validation' list).")
    folds = min(folds, len(cases))
    if not 0 <= options.fold < folds:
        raise PlanError(f"--fold {options.fold}: choose a fold from 0 to {folds - 1}.")
    all_splits = splits(cases, folds)
    val = set(all_splits[options.fold]["val"])
    return Split([c for c in cases if c.name not in val], [c for c in cases if c.name in val],
                 Decision(f"fold {options.fold} of {folds}",
                          f"{folds}-fold cross-validation (shuffled, seed {SPLIT_SEED}); "
                          f"fold {options.fold} validates {len(val)} case(s)")), all_splits


def refuse_existing(mmar: str, force: bool) -> None:
    """Raise unless ``mmar`` is new, empty or ``force`` is given."""
    existing = [f for f in FILES if os.path.exists(os.path.join(mmar, f))]
    if existing and not force:
        raise PlanError(f"{mmar} already holds an MMAR ({', '.join(existing[:3])}); plan into "
                        "a new folder, or add --force to replace these files (models/ and "
                        "other files are kept).")


def loader_names(dataset: Dataset, registry: Any) -> dict[str, str]:
    """The catalog name of the loader for the images and for the labels."""
    first = dataset.training[0]
    out = {}
    for field, path in (("image", first.images[0]), ("label", first.label or first.images[0])):
        full = dataset.path(path)
        out[field] = registry.loader_for(full, folder=os.path.isdir(full)).__name__
    return out


def write_mmar(mmar: str, dataset: Dataset, fp: Fingerprint, plan: Plan, split: Split,
               all_splits: list[dict[str, Any]], options: Options, registry: Any) -> list[str]:
    """Write every file of the MMAR; the paths written."""
    loaders = loader_names(dataset, registry)
    train = configs.train_config(plan, loaders)
    if options.search:
        configs.add_search(train)
    datalist: dict[str, Any] = {
        "description": f"planned by clara plan from {dataset.source}",
        "labels": {str(k): v for k, v in fp.labels.items()},
        **({"regions": {k: list(v) for k, v in fp.regions.items()}} if fp.regions else {}),
        "training": [c.item() for c in split.training],
        "validation": [c.item() for c in split.validation],
    }
    if dataset.testing:
        datalist["testing"] = [c.item() for c in dataset.testing]
    files: dict[str, Any] = {
        "config/config_train.json": train,
        "config/config_validation.json": configs.validation_config(plan, loaders),
        "config/environment.json": {"DATA_ROOT": dataset.root,
                                    "DATASET_JSON": "config/datalist.json",
                                    "MMAR_CKPT_DIR": "models", "MMAR_EVAL_OUTPUT_PATH": "eval"},
        "config/datalist.json": datalist,
        "plan/fingerprint.json": {"dataset": dataset.source, "form": dataset.form,
                                  **fp.record()},
        "plan/plan.json": {"dataset": dataset.source, "split": split.decision.value,
                           "split_reason": split.decision.reason, **plan.record()},
        "plan/splits.json": all_splits,
    }
    if options.search:
        files["config/config_automl.json"] = configs.automl_config()
    written = []
    for rel, content in files.items():
        path = os.path.join(mmar, rel)
        atomic_write_json(path, _plain(content))
        written.append(path)
    return written


def _plain(value: Any) -> Any:
    """``value`` with dataclasses and NumPy scalars as JSON types."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    return value
