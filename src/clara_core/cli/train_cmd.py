"""``clara train``: train an MMAR."""

from __future__ import annotations

import argparse
import os
from typing import Any

from clara_core.cli.config_cmd import add_config_source_args, load_and_build
from clara_core.workflow.cluster import CLUSTER_MODES, choose_source, mpirun_rank


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "train", help="train an MMAR (validates the config first)",
        description="Train an MMAR. Fine-tune from saved weights with --set MMAR_CKPT=FILE; "
                    "Ctrl-C stops after writing a checkpoint that --resume continues from.")
    add_config_source_args(p)
    p.add_argument("--resume", action="store_true",
                   help="continue the run in MMAR_CKPT_DIR from its last checkpoint")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is shown only on a terminal anyway)")
    p.add_argument("--cluster", choices=CLUSTER_MODES, default="auto",
                   help="train with the other workers of a cluster named by TF_CONFIG "
                        "(Kubeflow TFJob) or by SLURM (srun); auto (default) uses whichever "
                        "names more than one task, none trains alone")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    source = choose_source(args.cluster, os.environ)  # a malformed TF_CONFIG stops us here
    rank = mpirun_rank(os.environ) if source is None else None
    if rank:  # the SDK's mpirun launch of one process per GPU: rank 0 uses them all
        print(f"mpirun rank {rank}: nothing to do; rank 0 trains on every GPU of this host "
              "(multi_gpu=true)")
        return 0
    built = load_and_build(args)  # all config problems before TensorFlow is imported
    from clara_core.mmar.run_folder import RunFolder
    from clara_core.workflow.cluster import resolve_cluster
    from clara_core.workflow.out_of_memory import explain_out_of_memory
    from clara_core.workflow.trainer import Trainer

    trainer = Trainer(built, progress=False if args.no_progress else None,
                      cluster=resolve_cluster(args.cluster))
    with explain_out_of_memory("train", built.loaded.config, resume=lambda: trainer.resume_note):
        result = trainer.run(args.resume)
    done = len(result.losses)
    if result.interrupted:
        print(f"\nstopped after {done} complete epochs; checkpoint written to "
              f"{result.checkpoint_dir}. Continue with the same command and --resume.")
        return result.exit_code
    print(f"\ntrained epochs {result.start_epoch + 1}-{done} in {result.seconds:.1f} s")
    for name, value in result.metrics.items():
        print(f"  {name}: {value:.4f}")
    print(RunFolder(result.checkpoint_dir).summary())
    print(f"export a SavedModel with: clara export -m {built.loaded.mmar_root}")
    if result.picture:
        print(f"picture: {result.picture}")
    return 0
