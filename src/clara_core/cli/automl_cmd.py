"""``clara automl``: the SDK's AutoML search (``nvmidl.apps.automl.train``) on Optuna."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "automl", help="search a train config's AutoML search space (trials are MMARs)",
        description="Search the AutoML search space of an MMAR's train config, as the SDK's "
                    "commands/automl.sh did: clara automl -m MMAR --set run_id=NAME "
                    "trainconf=trn_autoML.json workers=0:1 traceout=console. Each trial is "
                    "an MMAR under automl/NAME/ trained by clara train in its own process; "
                    "the same command resumes a killed search or joins a running one.")
    p.add_argument("-m", "--mmar", required=True, help="MMAR folder (config/ holds the train "
                   "config and config_automl.json)")
    p.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                   metavar="KEY=VALUE",
                   help="run_id=NAME, trainconf=FILE (in config/), workers=0:1:2:3 (GPU ids; "
                        "cpu:cpu for CPU workers), traceout=console|file, automlconf=FILE; "
                        "other pairs override the train config (epochs=2)")
    p.add_argument("--storage", help="an RDB URL for the study (postgresql://..., "
                   "mysql+pymysql://...) so that hosts join one search; default: a journal "
                   "file automl/NAME/study.journal")
    p.add_argument("--report", action="store_true",
                   help="only print and write the report of a finished or running search")
    p.add_argument("--names-only", action="store_true",
                   help="refuse \"path\" controllers, handlers and components")
    p.add_argument("--tracking", action="append", default=[], metavar="TRACKER",
                   help="each trial logs to this tracker (mlflow with clara-mlflow)")
    p.set_defaults(func=run_automl)


def run_automl(args: argparse.Namespace) -> int:
    from clara_core.automl.plan import split_sets
    from clara_core.errors import ClaraError

    root = os.path.abspath(args.mmar)
    if not os.path.isdir(root):
        raise ClaraError(f"MMAR folder not found: {args.mmar}; give the folder that holds "
                         "config/")
    own, rest = split_sets(args.overrides)
    trainconf = own.get("trainconf", "config_train.json")
    run_id = own.get("run_id") or os.path.splitext(os.path.basename(trainconf))[0]
    if args.report:
        return _report(root, run_id, args.storage)
    plan = _plan(args, root, run_id, trainconf, own, rest)
    return _search(plan, args.storage)


def _plan(args: argparse.Namespace, root: str, run_id: str, trainconf: str,
          own: dict[str, str], rest: list[str]) -> Any:
    from clara_core.automl.plan import (
        DEFAULT_AUTOML_CONFIG,
        SearchPlan,
        load_automl_config,
        load_train_config,
        parse_workers,
    )
    from clara_core.automl.sdk import install_sdk_names
    from clara_core.config.builder import build_config
    from clara_core.config.loader import load_config, locate
    from clara_core.registry.paths import Policy
    from clara_core.registry.registry import Registry

    path, config, env, spec = load_train_config(root, trainconf, rest)
    # the train config's own checks (components, data, search items), as config check does
    config_path, env_path, _ = locate(root, path, None)
    registry = Registry(policy=Policy.from_environment(args.names_only))
    built = build_config(load_config(config_path, env_path, rest, root), registry)
    names_only = registry.policy.names_only
    if not names_only:
        install_sdk_names()
    given = own.get("automlconf")
    automl_path = os.path.join(root, DEFAULT_AUTOML_CONFIG) if not given else next(
        (p for p in (given, os.path.join(root, "config", given), os.path.join(root, given))
         if os.path.isfile(p)), os.path.join(root, "config", given))
    variables = {**env, "trainconf": trainconf, "run_id": run_id, "MMAR_ROOT": root}
    controller, handlers, pruner, notices = load_automl_config(automl_path, root, variables,
                                                                registry)
    notices = [n for n in built.notices if not n.startswith("AutoML search space")] + notices
    from clara_core.workflow.events import plugin_hooks

    # the tracking setting and --tracking, as clara train takes them (the search's own run)
    tracking = list(dict.fromkeys([*getattr(built.settings, "tracking", ()), *args.tracking]))
    return SearchPlan(root, run_id, path, config, env, spec, controller, handlers, pruner,
                      parse_workers(own.get("workers", "cpu")), own.get("traceout", "console"),
                      notices, names_only, tracking, plugin_hooks(registry))


def _search(plan: Any, storage: str | None) -> int:
    import optuna

    from clara_core.automl.controllers import OptunaController
    from clara_core.automl.engine import Search
    from clara_core.automl.plan import make_pruner
    from clara_core.automl.report import write_report
    from clara_core.automl.space import distributions
    from clara_core.automl.study import journal_path, open_study
    from clara_core.components.run_state import RunInfo
    from clara_core.workflow.events import RunEvents

    for notice in plan.notices:
        print(f"clara: notice: {notice}")
    sampler = plan.controller.make_sampler(distributions(plan.spec)) \
        if isinstance(plan.controller, OptunaController) else optuna.samplers.RandomSampler()
    study = open_study(plan.run_id, plan.run_dir, storage, sampler, make_pruner(plan.pruner))
    label = storage or journal_path(plan.run_dir)
    print(f"automl: search {plan.run_id}: {len(plan.spec.items)} search item(s), "
          f"{len(plan.workers)} worker(s), study {label}", flush=True)
    run = RunInfo(command="automl", mmar=plan.mmar_root, config_file=plan.train_config_path,
                  run_folder=plan.run_dir, plugin_dir=os.path.join(plan.run_dir, "plugins"),
                  tracking=tuple(plan.tracking))
    search = Search(plan, study, label, RunEvents(run, plan.hooks))
    search.run()
    if search.ctx.get_stop_message() and not search.failure:
        print(f"automl: stopped: {search.ctx.get_stop_message()}")
    print(write_report(study, plan.run_dir, storage))
    if search.failure:
        from clara_core.errors import ClaraError

        raise ClaraError(f"automl: the search stopped: {search.failure}. The study keeps "
                         "the finished trials: fix it, then run the same command to go on.")
    return 0


def _report(root: str, run_id: str, storage: str | None) -> int:
    import optuna

    from clara_core.automl.report import write_report
    from clara_core.automl.study import journal_path
    from clara_core.errors import ClaraError

    run_dir = os.path.join(root, "automl", run_id)
    if not storage and not os.path.isfile(journal_path(run_dir)):
        raise ClaraError(f"no search {run_id!r} in {root}: {journal_path(run_dir)} not found; "
                         "give its run_id with --set run_id=NAME")
    from clara_core.automl.study import open_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(run_id, run_dir, storage, None, None)
    print(write_report(study, run_dir, storage))
    return 0
