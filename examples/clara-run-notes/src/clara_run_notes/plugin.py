"""Notes of every training run: a JSON line per epoch, and the best epoch at the end."""

import json
import os

from clara_core.hookspecs import hookimpl


def notes_file(run):
    return os.path.join(run.plugin_dir, "run_notes.jsonl")


@hookimpl
def clara_train_started(run):
    os.makedirs(run.plugin_dir, exist_ok=True)
    if not run.resumed:  # a new run in this folder starts a new file
        open(notes_file(run), "w").close()


@hookimpl
def clara_epoch_ended(run, epoch, metrics):
    with open(notes_file(run), "a") as f:
        f.write(json.dumps({"epoch": epoch, **metrics}) + "\n")


@hookimpl
def clara_train_ended(run, result):
    if result.best_key_metric is not None and run.key_metric:
        run.log(f"run notes: best {run.key_metric} {result.best_key_metric:.4f} "
                f"(epoch {run.best_epoch}), notes in {notes_file(run)}")
