"""``clara automl``'s cost per trial against ``clara train``, and what its pruner saves.

(a) Executor overhead. Baseline: ``clara train -m TRIAL`` of each trial's concrete
config (a fresh copy, its own process), the command a user would run by hand.
Executor: each trial's wall time in the study (Optuna's ask to tell: writing the
trial MMAR, its ``clara train`` process, metric polling, reporting) of a ``clara
automl`` search (RandomController, one CPU worker) of ``--rounds`` trials. The two
alternate ``--repeats`` times; the figure is the ratio of the medians, goal at most
1.10. ``search_wall_s_per_trial`` adds the search's own start-up and final report
(Optuna's importance, the picture), divided by the number of trials.

(b) Pruning. The same seeded random search of ``--trials`` trials of ``--epochs``
epochs (validation every epoch), with Optuna's MedianPruner and without: epochs spent
in all and the best score of each.

    python benchmarks/automl.py [--repeats 2] [--rounds 3] [--trials 6] [--epochs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np

CONFIG = {
    "epochs": 2, "num_training_epoch_per_valid": 1, "learning_rate": 0.01,
    "determinism": {"random_seed": 7},
    "search": [{"domain": "lr", "type": "float", "args": ["learning_rate"],
                "targets": [0.0001, 0.05]}],
    "train": {
        "loss": {"name": "Dice", "args": {"data_format": "channels_last"}},
        "optimizer": {"name": "Adam"},
        "model": {"name": "Unet", "args": {"num_classes": 2, "filters": 4, "depth": 2,
                                           "data_format": "channels_last"},
                  "search": [{"domain": "net", "type": "enum", "args": ["filters"],
                              "targets": [[2], [4]]}]},
        "pre_transforms": [
            {"name": "LoadNifti", "args": {"fields": ["image", "label"]}},
            {"name": "ConvertToChannelsFirst", "args": {"fields": ["image", "label"]}},
            {"name": "CropByPosNegRatio", "args": {"size": [16, 16, 16], "num_samples": 2}}],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "output_batch_size": 2, "output_data_format": "channels_last"}}},
    "validate": {
        "metrics": [{"name": "ComputeAverageDice",
                     "args": {"name": "mean_dice", "is_key_metric": True}}],
        "pre_transforms": [{"ref": "LoadNifti"}, {"ref": "ConvertToChannelsFirst"}],
        "image_pipeline": {"name": "SegmentationImagePipeline", "args": {
            "data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
            "data_list_key": "validation", "output_data_format": "channels_last"}},
        "inferer": {"name": "TFScanWindowInferer", "args": {"roi_size": [16, 16, 16]}}},
}


def write_mmar(root: str, epochs: int, automl: dict) -> None:
    os.makedirs(os.path.join(root, "config"))
    os.makedirs(os.path.join(root, "data"))
    rng = np.random.default_rng(0)
    items = []
    for i in range(4):
        label = np.zeros((20, 20, 20), np.uint8)
        c = rng.integers(6, 14, size=3)
        label[c[0] - 4:c[0] + 4, c[1] - 4:c[1] + 4, c[2] - 4:c[2] + 4] = 1
        image = (label * 2.0 + rng.normal(scale=0.5, size=label.shape)).astype(np.float32)
        for kind, data in (("image", image), ("label", label)):
            nib.save(nib.Nifti1Image(data, np.eye(4)), os.path.join(root, "data",
                                                                    f"{kind}{i}.nii.gz"))
        items.append({"image": f"image{i}.nii.gz", "label": f"label{i}.nii.gz"})
    with open(os.path.join(root, "data", "dataset.json"), "w") as f:
        json.dump({"training": items[:-1], "validation": items[-1:]}, f)
    with open(os.path.join(root, "config", "environment.json"), "w") as f:
        json.dump({"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json",
                   "MMAR_CKPT_DIR": "models"}, f)
    with open(os.path.join(root, "config", "config_train.json"), "w") as f:
        json.dump({**CONFIG, "epochs": epochs}, f)
    with open(os.path.join(root, "config", "config_automl.json"), "w") as f:
        json.dump(automl, f)


def clara(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "clara_core", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def study(root: str, run_id: str) -> list:
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    storage = JournalStorage(JournalFileBackend(os.path.join(root, "automl", run_id,
                                                             "study.journal")))
    return optuna.load_study(study_name=run_id, storage=storage).trials


def overhead(tmp: str, repeats: int, rounds: int) -> dict:
    root = os.path.join(tmp, "a")
    write_mmar(root, 2, {"controller": {"name": "RandomController",
                                        "args": {"max_rounds": rounds, "seed": 0}}})
    search, executor, train = [], [], []
    for r in range(repeats):
        search.append(clara("automl", "-m", root, "--set", f"run_id=r{r}") / rounds)
        executor += [t.duration.total_seconds() for t in study(root, f"r{r}")]
        for t in range(rounds):
            trial = os.path.join(root, "automl", f"r{r}", f"trial_{t:03d}")
            copy = os.path.join(tmp, f"copy{r}_{t}")
            shutil.copytree(os.path.join(trial, "config"), os.path.join(copy, "config"))
            train.append(clara("train", "-m", copy, "--no-progress"))
    return {"executor_s_per_trial": round(statistics.median(executor), 2),
            "clara_train_s": round(statistics.median(train), 2),
            "ratio": round(statistics.median(executor) / statistics.median(train), 3),
            "search_wall_s_per_trial": round(statistics.median(search), 2)}


def pruning(tmp: str, trials: int, epochs: int) -> dict:
    out = {}
    for name, pruner in (("pruned", {"name": "median", "args": {"n_startup_trials": 2,
                                                               "n_warmup_steps": 1}}),
                         ("unpruned", None)):
        root = os.path.join(tmp, name)
        automl = {"controller": {"name": "RandomController",
                                 "args": {"max_rounds": trials, "seed": 3}}}
        write_mmar(root, epochs, {**automl, **({"pruner": pruner} if pruner else {})})
        clara("automl", "-m", root, "--set", "run_id=p")
        found = study(root, "p")
        out[name] = {"epochs": sum(int(t.user_attrs.get("epochs", 0)) for t in found),
                     "pruned_trials": sum(t.state.name == "PRUNED" for t in found),
                     "best": round(max((t.value for t in found if t.value is not None),
                                       default=float("nan")), 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        a = overhead(tmp, args.repeats, args.rounds)
        b = pruning(tmp, args.trials, args.epochs)
    print(json.dumps({"benchmark": "automl", "baseline": "clara train of the same concrete "
                      "config", **a, "goal": 1.10, "pruning": b,
                      "epochs_ratio": round(b["pruned"]["epochs"] / b["unpruned"]["epochs"], 3),
                      "device": "cpu", "cpus": len(os.sched_getaffinity(0))}))


if __name__ == "__main__":
    main()
