"""``clara validate``: run a validation config (the SDK's config_validation.json)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from clara_core.cli.config_cmd import add_config_source_args, load_and_build
from clara_core.errors import ClaraError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "validate", help="validate a trained MMAR with a validation config",
        description="Load the trained model (model_loader), infer every case of "
                    "DATASET_JSON's validation list (pre_transforms, inferer), apply "
                    "post_transforms and label_transforms, compute val_metrics (reports "
                    "under their report_path) and run the writers. Default config: "
                    "MMAR/config/config_validation.json.")
    add_config_source_args(p)
    p.add_argument("--key", default=None,
                   help="datalist key of the cases (default: the config's DATA_LIST_KEY, "
                        "else validation)")
    p.set_defaults(func=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    if args.config is None and args.mmar is not None:
        args.config = os.path.join(args.mmar, "config", "config_validation.json")
    built = load_and_build(args)  # all config problems before TensorFlow is imported
    if not built.loaded.is_eval:
        raise ClaraError(f"{built.loaded.config_path} is a train config; clara validate takes "
                         "a validation config (model_loader, val_metrics, ...). Train with "
                         "clara train.")
    from clara_core.workflow.evaluate import Evaluator
    from clara_core.workflow.out_of_memory import explain_out_of_memory

    with explain_out_of_memory("validate", built.loaded.config):
        result = Evaluator(built, args.key).run()
    print(f"validated {result.cases} case(s) in {result.seconds:.1f} s")
    for name, value in result.metrics.items():
        print(f"  {name}: {value:.4f}")
    if result.written:
        folders = sorted({os.path.dirname(p) for p in result.written})
        print(f"wrote {len(result.written)} file(s) to {', '.join(folders)}")
    return 0
