"""``clara export``: the trained model as a SavedModel, an ONNX file or a ``.keras`` file."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "export", help="export a trained MMAR's model (SavedModel, ONNX or .keras)",
        description="Load model_final.keras from the MMAR's MMAR_CKPT_DIR with the chosen "
                    "weights and write it for others to run, with free batch and spatial "
                    "axes for a fully convolutional network: a SavedModel "
                    "(tf.saved_model.load(DIR).serve(x)), an ONNX file (checked with "
                    "onnxruntime against Keras) or a .keras file. An existing non-empty "
                    "target is refused; --force replaces it atomically.")
    p.add_argument("-m", "--mmar", required=True, help="MMAR folder")
    p.add_argument("-e", "--env", help="environment file (default: MMAR/config/environment.json)")
    p.add_argument("--format", default="savedmodel", choices=("savedmodel", "onnx", "keras"),
                   help="savedmodel (default), onnx or keras")
    p.add_argument("--weights", default="best",
                   help="best (default), final, latest, or a .weights.h5 file")
    p.add_argument("-o", "--output", help="target path (default: in MMAR_CKPT_DIR: "
                   "saved_model/, model.onnx or model_export.keras)")
    p.add_argument("--input-shape", type=int, nargs="+", metavar="SIZE",
                   help="ONNX: fix the spatial sizes of the file (by default a fully "
                        "convolutional model keeps free batch and spatial axes; a network "
                        "that needs a fixed size keeps its own)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing non-empty target (atomically)")
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from clara_core.config.jsonio import read_json
    from clara_core.mmar.run_folder import RunFolder
    from clara_core.workflow.export import export_model

    env_path = args.env or os.path.join(args.mmar, "config", "environment.json")
    env = read_json(env_path, "environment file") if os.path.exists(env_path) else {}
    out = export_model(RunFolder.of_mmar(args.mmar, env), args.format, args.weights,
                       args.output, args.force,
                       tuple(args.input_shape) if args.input_shape else None, log=print)
    how = {"savedmodel": f"tf.saved_model.load({out!r}).serve(x)",
           "onnx": f"onnxruntime.InferenceSession({out!r}) (checked against Keras)",
           "keras": f"keras.models.load_model({out!r})"}[args.format]
    print(f"{args.format} written to {out}; load it with {how}")
    return 0
