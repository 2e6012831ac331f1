"""``clara plan``: fingerprint a dataset and write a self-configured MMAR for it."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "plan", help="write an MMAR planned from a dataset (nnU-Net style)",
        description="Read every training case of DATASET through the installed loaders "
                    "(the fingerprint: spacing, shape, channels, foreground intensities, "
                    "classes), derive spacing, patch, network, normalisation, augmentation "
                    "and schedule with one reason each, and write an ordinary MMAR to MMAR: "
                    "config/ (train, validation, environment, the fold's datalist) and "
                    "plan/ (fingerprint.json, plan.json, splits.json). Dataset problems are "
                    "listed per case before anything is written.")
    p.add_argument("-d", "--dataset", required=True,
                   help="a datalist JSON (MSD / nnU-Net v1 or the SDK's form) or an nnU-Net "
                        "v2 dataset folder")
    p.add_argument("-o", "--output", required=True, help="the MMAR folder to write")
    p.add_argument("--memory-gb", type=float, default=None,
                   help="training memory to plan for (default: the GPU found, else the CPU "
                        "profile, which trains in minutes)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--epochs", type=int, default=None, help="epochs to train")
    budget.add_argument("--time-budget", type=float, default=None, metavar="MINUTES",
                        help="training time to plan the epochs for (an estimate)")
    p.add_argument("--folds", type=int, default=None,
                   help="cross-validation folds (default 5; without it a dataset's own "
                        "validation list is used)")
    p.add_argument("--fold", type=int, default=0, help="the fold to train (default 0)")
    p.add_argument("--search", action="store_true",
                   help="add an AutoML search space (learning rate) to config_train.json")
    p.add_argument("--force", action="store_true",
                   help="replace the plan's files in an existing MMAR (models/ is kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_plan)


def run_plan(args: argparse.Namespace) -> int:
    from clara_core.plan import writer
    from clara_core.plan.dataset import PlanError, read_dataset
    from clara_core.plan.fingerprint import fingerprint
    from clara_core.plan.planner import Options, gpu_memory_gb, make_plan
    from clara_core.registry.registry import Registry

    if args.epochs is not None and args.epochs < 1:
        raise PlanError(f"--epochs {args.epochs}: give at least 1.")
    if args.folds is not None and args.folds < 2:
        raise PlanError(f"--folds {args.folds}: cross-validation needs at least 2 folds.")
    options = Options(args.memory_gb, args.epochs, args.time_budget, args.folds, args.fold,
                      args.search)
    writer.refuse_existing(args.output, args.force)
    dataset = read_dataset(args.dataset)
    split, all_splits = writer.choose_split(dataset, options)
    registry = Registry()
    fp = fingerprint(dataset, registry, progress=False if args.no_progress else None)
    gpu = None if args.memory_gb is not None else gpu_memory_gb()
    plan = make_plan(fp, options, len(split.training), gpu)
    print(f"fingerprint: {len(fp.cases)} case(s), {fp.dims}D, {fp.channels} channel(s) "
          f"({_modalities(fp.modalities, bool(dataset.modalities))}), "
          f"classes {sorted(fp.labels)}")
    print(f"split: {split.decision.value} ({split.decision.reason})")
    for line in plan.lines():
        print(f"  {line}")
    written = writer.write_mmar(args.output, dataset, fp, plan, split, all_splits, options,
                                registry)
    print(f"wrote {len(written)} files to {os.path.abspath(args.output)}; train with: "
          f"clara train -m {args.output}")
    return 0


def _modalities(names: list[str], given: bool) -> str:
    if given:
        return ", ".join(names)
    if set(names) == {"unknown"}:
        return "modality not given"
    return f"{', '.join(names)}, inferred"
