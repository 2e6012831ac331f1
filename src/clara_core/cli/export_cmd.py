"""``clara export``: the trained model as a TensorFlow SavedModel."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export", help="export a trained MMAR's model as a SavedModel (plain TensorFlow)",
        description="Load model_final.keras from the MMAR's MMAR_CKPT_DIR with the chosen "
                    "weights and write a SavedModel: tf.saved_model.load(DIR).serve(x).")
    p.add_argument("-m", "--mmar", required=True, help="MMAR folder")
    p.add_argument("-e", "--env", help="environment file (default: MMAR/config/environment.json)")
    p.add_argument("--weights", default="best",
                   help="best (default), final, latest, or a .weights.h5 file")
    p.add_argument("-o", "--output", help="SavedModel folder (default: MMAR_CKPT_DIR/saved_model)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing non-empty output folder (atomically)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from clara_core.config.jsonio import read_json

    env_path = args.env or os.path.join(args.mmar, "config", "environment.json")
    env = read_json(env_path, "environment file") if os.path.exists(env_path) else {}
    from clara_core.workflow.export import export_saved_model
    from clara_core.workflow.run_folder import RunFolder

    out = export_saved_model(RunFolder.of_mmar(args.mmar, env), args.weights, args.output,
                             args.force)
    print(f"SavedModel written to {out}; load it with tf.saved_model.load({out!r}).serve(x)")
    return 0
