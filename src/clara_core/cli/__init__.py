"""The ``clara`` command. Sub-commands live in one module each and import lazily."""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
from collections.abc import Sequence
from typing import Any

# sub-command -> module with ``add_parser(subparsers)``; the module is imported on use.
COMMANDS = {
    "components": "clara_core.cli.components_cmd",
    "config": "clara_core.cli.config_cmd",
    "train": "clara_core.cli.train_cmd",
    "validate": "clara_core.cli.validate_cmd",
    "infer": "clara_core.cli.infer_cmd",
    "export": "clara_core.cli.export_cmd",
    "plugin": "clara_core.cli.plugin_cmd",
    "automl": "clara_core.cli.automl_cmd",
    "plan": "clara_core.cli.plan_cmd",
}


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clara",
        description="Bring-your-own-components medical-imaging training on TensorFlow 2.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def _version() -> str:
    from clara_core import __version__

    return f"clara {__version__}"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (redirections included)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def show_warnings() -> None:
    """The ``clara`` logger's warnings (a skipped case, a label without foreground) go
    to stderr as ``clara: warning: ...`` lines."""
    logger = logging.getLogger("clara")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("clara: %(levelname)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False


def _out_of_space(exc: OSError) -> bool:
    """A write failed for want of space or quota (h5py reports it only in its text)."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or any(
        text in str(exc) for text in ("No space left", "File too large", "quota"))


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``clara``; user errors print a message and exit 2, never a traceback."""
    from clara_core.cli.tf_startup import quiet_tensorflow_startup
    from clara_core.errors import ClaraError

    show_warnings()
    quiet_tensorflow_startup()
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ClaraError as exc:
        print(f"clara: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("clara: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        if not _out_of_space(exc):
            raise
        print(f"clara: error: no space left to write {exc.filename or 'a file'}. Files are "
              "written beside their target and renamed, so the last complete checkpoint is "
              "intact; free disk space, then continue with the same command and --resume.",
              file=sys.stderr)
        return 2
