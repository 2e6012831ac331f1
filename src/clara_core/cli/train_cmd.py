"""``clara train``: train an MMAR."""

from __future__ import annotations

import argparse
import os
from typing import Any

from clara_core.cli.config_cmd import add_config_source_args, load_and_build


def add_parser(sub: Any) -> None:
    p = sub.add_parser("train", help="train an MMAR (validates the config first)")
    add_config_source_args(p)
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    built = load_and_build(args)  # all config problems before TensorFlow is imported
    from clara_core.workflow.trainer import Trainer

    result = Trainer(built).run()
    print(f"\ntrained {result.epochs} epochs in {result.seconds:.1f} s")
    for name, value in result.metrics.items():
        print(f"  {name}: {value:.4f}")
    print(f"checkpoints and logs: {result.checkpoint_dir}")
    return 0
