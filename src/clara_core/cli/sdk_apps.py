"""The SDK's Python entry points, so an MMAR's ``commands/*.sh`` run unchanged.

The SDK's scripts call ``python3 -u -m nvmidl.apps.train -m $MMAR_ROOT -c ... -e ...
--set ...`` (``train.sh``, ``train_finetune.sh``, ``train_2gpu.sh`` under mpirun),
``nvmidl.apps.evaluate`` (``validate.sh``, ``infer.sh``), ``nvmidl.apps.export``
(``export.sh``) and ``nvmidl.apps.automl.train`` (``automl.sh``). The ``nvmidl``
package installed with clara-core holds those modules; each runs the ``clara``
command that does the same (:data:`COMMANDS`), with the same arguments.

``export.sh`` names no MMAR and asks for a TensorFlow 1 frozen graph and TensorRT
(``--model_file_format CKPT --model_file_path $MMAR_ROOT/models --model_name model
--input_node_names ... --output_node_names ... --trt_min_seg_size 50``): the MMAR
is ``$MMAR_ROOT`` (the folder above ``--model_file_path`` without it), and the
export is ``clara export``'s SavedModel, after one notice naming the TF1 options.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

#: the SDK module (``nvmidl.apps.<key>``) and the ``clara`` command it runs
COMMANDS = {"train": "train", "evaluate": "validate", "automl.train": "automl",
            "export": "export"}
#: ``export.sh``'s options for a TF1 frozen graph and TensorRT, dropped with one notice
TF1_EXPORT_OPTIONS = ("model_file_format", "model_name", "input_node_names",
                      "output_node_names", "trt_min_seg_size", "trt_precision_mode",
                      "max_batch_size")


def run_sdk_app(app: str, argv: Sequence[str] | None = None) -> int:
    """``python -m nvmidl.apps.<app> ARGS`` as the ``clara`` command it maps to."""
    from clara_core.cli import main
    from clara_core.errors import ClaraError

    args = list(sys.argv[1:] if argv is None else argv)
    if app == "export":
        try:
            args = export_args(args)
        except ClaraError as exc:  # as main() reports its own: one line, exit 2
            print(f"clara: error: {exc}", file=sys.stderr)
            return 2
    return main([COMMANDS[app], *args])


def export_args(argv: Sequence[str]) -> list[str]:
    """``clara export`` arguments for the SDK's ``export.sh`` arguments.

    >>> export_args(["--model_file_format", "CKPT", "--model_file_path", "/m/models",
    ...              "--model_name", "model", "--trt_min_seg_size", "50"])
    ['-m', '/m']
    """
    p = argparse.ArgumentParser(prog="python -m nvmidl.apps.export", add_help=False)
    p.add_argument("-m", "--mmar", "--mmar_root")
    p.add_argument("--model_file_path")
    for option in TF1_EXPORT_OPTIONS:
        p.add_argument(f"--{option}")
    known, rest = p.parse_known_args(list(argv))
    root = known.mmar or os.environ.get("MMAR_ROOT") or (
        os.path.dirname(os.path.abspath(known.model_file_path))
        if known.model_file_path else None)
    if root is None:
        from clara_core.errors import ClaraError

        raise ClaraError("python -m nvmidl.apps.export: no MMAR given. The SDK's export.sh "
                         "finds it through MMAR_ROOT (its set_env.sh exports it) or "
                         "--model_file_path (the MMAR's models folder); or run "
                         "clara export -m MMAR.")
    tf1 = [f"--{k}" for k in TF1_EXPORT_OPTIONS if getattr(known, k) is not None]
    if tf1:
        print(f"clara: notice: {' '.join(tf1)} set a TensorFlow 1 frozen graph and TensorRT "
              "conversion, which TensorFlow 2 does not have: exporting the MMAR's model as a "
              "SavedModel (clara export; --format onnx for ONNX, which TensorRT reads)",
              file=sys.stderr)
    return ["-m", os.path.normpath(root), *rest]
