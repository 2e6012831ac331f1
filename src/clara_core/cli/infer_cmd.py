"""``clara infer``: segment new scans with a trained MMAR."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from clara_core.errors import ClaraError


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "infer", help="segment new scans with a trained MMAR (no labels needed)",
        description="Segment images with the MMAR's trained model: its validation "
                    "pre-transforms, a sliding window and argmax (a sigmoid model: each "
                    "channel thresholded at 0.5, one channel per class), written as "
                    "OUTDIR/<name>_seg.nii.gz on each input's own grid. Outputs that "
                    "exist are skipped (use --overwrite), so an interrupted run continues. "
                    "Exit code 0: every input segmented or skipped; 1: some inputs failed "
                    "(listed); 2: a usage or MMAR problem.")
    p.add_argument("-m", "--mmar", required=True, help="the trained MMAR")
    p.add_argument("-i", "--input", nargs="+", required=True, metavar="INPUT",
                   help="image files (NIfTI, .mha, .nrrd, ...), folders of them, a folder "
                        "of DICOM slices (one series), or a datalist .json")
    p.add_argument("-o", "--output", required=True, help="folder for the segmentations")
    p.add_argument("-c", "--config", help="train config (default: MMAR/config/config_train.json)")
    p.add_argument("-e", "--env", help="environment file (default: MMAR/config/environment.json)")
    p.add_argument("--key", help="datalist key (default: testing if present, else validation)")
    p.add_argument("--checkpoint", default="best",
                   help="best (default), final, latest, or a .weights.h5 file")
    p.add_argument("--overwrite", action="store_true", help="redo inputs whose output exists")
    p.add_argument("--num-parts", type=int, default=1, help="split the inputs in N parts")
    p.add_argument("--part-id", type=int, default=0, help="which part this process does")
    p.add_argument("--save-probabilities", action="store_true",
                   help="also write <name>_prob.nii.gz with the class probabilities")
    p.add_argument("--roi-size", type=int, nargs="+",
                   help="sliding-window size (default: the config's validation inferer)")
    p.add_argument("--overlap", type=float, default=0.5, help="window overlap (default 0.5)")
    p.add_argument("--mode", choices=("gaussian", "constant"), default="gaussian",
                   help="window weighting (default gaussian)")
    p.add_argument("--sw-batch-size", type=int, default=1, help="windows per model call")
    p.add_argument("--tta", action="store_true",
                   help="test-time augmentation: average over mirrored copies on every axis")
    p.add_argument("--amp", action="store_true",
                   help="half-precision inference: float16 on a GPU, bfloat16 on CPUs "
                        "(float32 weights; see benchmarks/infer_amp.py for its error)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_infer)


def _inferer(args: argparse.Namespace, configured: Any) -> Any:
    import itertools

    from clara_core.builtins.inferers import TFScanWindowInferer

    roi = args.roi_size or (configured.get_roi_size() if configured is not None else None)
    if not roi:
        return configured  # a whole-image inferer: use it as configured
    flips = [list(c) for n in range(1, len(roi) + 1)
             for c in itertools.combinations(range(len(roi)), n)] if args.tta else None
    try:
        return TFScanWindowInferer(roi_size=list(roi), overlap=args.overlap, mode=args.mode,
                                   sw_batch_size=args.sw_batch_size, tta_flips=flips)
    except ValueError as exc:  # the inferer's own argument check, worded for the flags
        flags = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in (
            ("roi_size", " ".join(map(str, roi))), ("overlap", args.overlap),
            ("mode", args.mode), ("sw_batch_size", args.sw_batch_size)))
        raise ClaraError(f"the sliding window of clara infer ({flags}): {exc} Change the "
                         "flag it names.") from None


def run_infer(args: argparse.Namespace) -> int:
    if args.num_parts < 1 or not 0 <= args.part_id < args.num_parts:
        raise ClaraError(f"--part-id {args.part_id} of --num-parts {args.num_parts}: give "
                         "N >= 1 parts and a part id from 0 to N-1.")
    from clara_core.config.builder import build_config
    from clara_core.config.loader import load_config, locate
    from clara_core.registry.paths import Policy
    from clara_core.registry.registry import Registry
    from clara_core.workflow.infer import Inference, expand_inputs

    config_path, env_path, root = locate(args.mmar, args.config, args.env)
    loaded = load_config(config_path, env_path, [], root)
    built = build_config(loaded, Registry(policy=Policy.from_environment()), check_data=False)
    data_root = loaded.env.get("DATA_ROOT")
    data_root = loaded.path_in_mmar(str(data_root)) if data_root else None
    configured = built.sections.get("validate", {}).get("inferer")
    amp = None
    if args.amp:
        from clara_core.workflow.runtime import has_gpu

        amp = "float16" if has_gpu() else "bfloat16"
    run = Inference(built, args.output, args.checkpoint, args.overwrite,
                    args.save_probabilities, _inferer(args, configured), amp=amp)
    items = expand_inputs(args.input, args.key, data_root, run.registry.loader_suffixes(),
                          run.takes_channels)[args.part_id::args.num_parts]
    from clara_core.workflow.out_of_memory import explain_out_of_memory

    with explain_out_of_memory("infer", loaded.config, args.roi_size), \
            _progress(len(items), not args.no_progress) as advance:
        report = run.run(items, advance)
    print(f"segmented {len(report.written) // (2 if args.save_probabilities else 1)} "
          f"input(s) into {run.output}; skipped {len(report.skipped)} with an output "
          f"already there (--overwrite redoes them); {len(report.failed)} failed")
    for path, why in report.failed:
        print(f"  failed: {path}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


class _progress:
    """A rich progress bar on a terminal, nothing elsewhere; yields ``advance()``."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled and sys.stderr.isatty()
        self.bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True)
        self.bar.start()
        task = self.bar.add_task("segmenting", total=self.total)
        return lambda: self.bar.advance(task)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.stop()
