"""``clara config check``: validate a config before anything heavy runs."""

from __future__ import annotations

import argparse
from typing import Any


def add_config_source_args(p: argparse.ArgumentParser) -> None:
    """-m/-c/-e/--set/--names-only, shared by every command that reads a config."""
    p.add_argument("-m", "--mmar", help="MMAR folder (config/config_train.json, "
                   "config/environment.json)")
    p.add_argument("-c", "--config", help="config file (default: MMAR/config/config_train.json)")
    p.add_argument("-e", "--env", help="environment file with variables such as DATA_ROOT")
    p.add_argument("--set", dest="overrides", action="extend", nargs="+", default=[],
                   metavar="KEY=VALUE",
                   help="override variables or config values: one or more pairs after one "
                        "flag, as the SDK's commands/*.sh write them (--set epochs=2 "
                        "DATA_ROOT=/data), or the flag repeated")
    p.add_argument("--names-only", action="store_true",
                   help="refuse \"path\" components (for configs you do not trust)")
    p.add_argument("--tracking", action="append", default=[], metavar="TRACKER",
                   help="log the run to an experiment tracker an installed plugin offers "
                        "(mlflow with clara-mlflow); the flag repeated adds more")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("config", help="check configs")
    s = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = s.add_parser("check", help="validate a config; exit 0 if valid, 2 with every problem")
    add_config_source_args(check)
    check.set_defaults(func=run_check)
    schema = s.add_parser(
        "schema", help="write a JSON Schema of train_config.json for your editor",
        description="A JSON Schema of train configs built from the installed components' "
                    "signatures and docstrings. VS Code: map it in json.schemas; others: "
                    '"$schema" in the config.')
    schema.add_argument("-o", "--output", help="file to write (default: standard output)")
    schema.set_defaults(func=run_schema)


def load_and_build(args: argparse.Namespace) -> Any:
    """Load the config the CLI arguments name and create its components."""
    from clara_core.config.builder import build_config
    from clara_core.config.loader import load_config, locate
    from clara_core.registry.paths import Policy
    from clara_core.registry.registry import Registry

    config_path, env_path, root = locate(args.mmar, args.config, args.env)
    loaded = load_config(config_path, env_path, args.overrides, root)
    if getattr(args, "tracking", None):  # --tracking adds to the config's own setting
        given = loaded.config.get("tracking")
        known = list(given) if isinstance(given, list) else []
        loaded.config["tracking"] = known + [t for t in args.tracking if t not in known]
    registry = Registry(policy=Policy.from_environment(args.names_only))
    return build_config(loaded, registry)


def run_check(args: argparse.Namespace) -> int:
    built = load_and_build(args)
    count = sum(len(v) if isinstance(v, list) else 1
                for section in built.sections.values() for v in section.values())
    for notice in built.notices:
        print(f"{built.loaded.config_path}: notice: {notice}")
    from clara_core.workflow.out_of_memory import memory_warning

    warning = None if built.loaded.is_eval else memory_warning(built.loaded.config)
    if warning:
        print(f"{built.loaded.config_path}: warning: {warning}")
    print(f"{built.loaded.config_path}: OK ({count} components)")
    return 0


def run_schema(args: argparse.Namespace) -> int:
    import json

    from clara_core.config.schema import build_schema
    from clara_core.registry.registry import Registry

    text = json.dumps(build_schema(Registry()), indent=1)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(f"wrote {args.output}")
    else:
        print(text)
    return 0
