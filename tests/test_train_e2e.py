"""End to end: the real ``clara train`` on small generated NIfTI files.

One reference run (4 epochs, fixed seed) is shared; the other runs must reproduce
its losses exactly: a second fresh run, a run stopped by Ctrl-C and resumed, a run
resumed at an epoch boundary.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import run_clara
from train_mmar import losses, make_train_mmar, poison_image, records

EPOCHS = 4


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_train_mmar(tmp_path_factory.mktemp("reference"), epochs=EPOCHS)
    out = run_clara("train", "-m", str(root))
    assert out.returncode == 0, out.stdout + out.stderr
    (root / "stdout.txt").write_text(out.stdout)
    return root


def test_train_writes_checkpoints_metrics_logs_and_picture(reference):
    models = reference / "models"
    stdout = (reference / "stdout.txt").read_text()
    assert "mean_dice:" in stdout and "training.png" in stdout
    for name in ("model_latest.weights.h5", "model_best.weights.h5", "model_final.weights.h5",
                 "train_state.json", "metrics.jsonl", "training.png"):
        assert (models / name).exists(), name
    assert (models / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = records(models)
    assert [r["epoch"] for r in rows] == list(range(1, EPOCHS + 1))
    assert all(np.isfinite(r["loss"]) and 0 <= r["mean_dice"] <= 1 for r in rows)
    # training metrics from the aux ops, computed in the train step
    assert all(0 <= r["train_dice"] <= 1 and 0 <= r["train_accuracy"] <= 1 for r in rows)
    assert rows[-1]["train_accuracy"] > 0.5
    assert list((models / "logs").iterdir()), "TensorBoard event files"
    assert not list(models.glob(".tmp-*")), "no temporary checkpoint files left behind"
    raw = (reference / "eval" / "mean_dice_raw.csv").read_text().splitlines()
    assert raw[0] == "case,value" and raw[1].startswith("image3.nii.gz,")
    state = json.loads((models / "train_state.json").read_text())
    assert state["epoch"] == EPOCHS and (models / state["bundle"]).exists()
    assert len(list(models.glob("resume-*.npz"))) == 1, "older resume points are removed"


@pytest.mark.slow
def test_same_seed_gives_the_same_losses(reference, tmp_path):
    root = make_train_mmar(tmp_path, epochs=EPOCHS)
    out = run_clara("train", "-m", str(root))
    assert out.returncode == 0, out.stderr
    assert losses(root / "models") == losses(reference / "models")


@pytest.mark.slow
def test_fused_spatial_augmentation_trains_and_repeats_with_the_seed(tmp_path):
    """Crop, rotation, zoom, flip and noise (the crop fused with the warps, resampled
    once) in the real ``clara train``: two runs of one seed give the same losses."""
    import copy

    from train_mmar import CONFIG

    train = copy.deepcopy(CONFIG["train"])
    train["pre_transforms"][3:3] = [
        {"name": "RandomRotate3D", "args": {"angle": 15, "probability": 1.0}},
        {"name": "RandomZoom", "args": {"lower_limits": 0.9, "upper_limits": 1.1,
                                        "probability": 1.0}}]
    train["pre_transforms"].append({"name": "AddGaussianNoise",
                                    "args": {"fields": "image", "variance": 0.01}})
    train["image_pipeline"]["args"]["num_workers"] = 2
    runs = []
    for name in ("a", "b"):
        root = make_train_mmar(tmp_path / name, epochs=2, train=train)
        out = run_clara("train", "-m", str(root))
        assert out.returncode == 0, out.stdout + out.stderr
        runs.append(losses(root / "models"))
    assert len(runs[0]) == 2 and all(np.isfinite(runs[0]))
    assert runs[0] == runs[1]


def test_resume_at_an_epoch_boundary_reproduces_the_uninterrupted_run(reference, tmp_path):
    root = make_train_mmar(tmp_path, epochs=EPOCHS)
    first = run_clara("train", "-m", str(root), "--set", "epochs=2")
    assert first.returncode == 0, first.stderr
    second = run_clara("train", "-m", str(root), "--resume")
    assert second.returncode == 0, second.stderr
    assert "resuming at epoch 3" in second.stdout
    assert [r["epoch"] for r in records(root / "models")] == list(range(1, EPOCHS + 1))
    np.testing.assert_allclose(losses(root / "models"), losses(reference / "models"), rtol=1e-6)


@pytest.mark.slow
def test_ctrl_c_writes_a_checkpoint_and_resume_reproduces_the_run(reference, tmp_path):
    root = make_train_mmar(tmp_path, epochs=EPOCHS)
    log = root / "models" / "metrics.jsonl"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "clara_core", "train", "-m", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 240
    while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 130, stdout + stderr
    assert "--resume" in stdout and "Traceback" not in stderr
    state = json.loads((root / "models" / "train_state.json").read_text())
    assert state["epoch"] < EPOCHS and (root / "models" / state["bundle"]).exists()

    resumed = run_clara("train", "-m", str(root), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    np.testing.assert_allclose(losses(root / "models"), losses(reference / "models"), rtol=1e-6)


def test_nan_loss_stops_cleanly_and_keeps_the_last_good_checkpoint(tmp_path):
    root = make_train_mmar(tmp_path)
    assert run_clara("train", "-m", str(root), "--set", "epochs=1").returncode == 0
    poison_image(root)
    out = run_clara("train", "-m", str(root), "--resume", "--set", "epochs=2")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Loss became nan at epoch 2" in out.stderr and "Traceback" not in out.stderr
    models = root / "models"
    state = json.loads((models / "train_state.json").read_text())
    assert state["epoch"] == 1 and (models / state["bundle"]).exists()
    assert [r["epoch"] for r in records(models)] == [1]


def test_fine_tune_starts_from_the_given_weights(reference, tmp_path):
    root = make_train_mmar(tmp_path)
    weights = reference / "models" / "model_final.weights.h5"
    out = run_clara("train", "-m", str(root), "--set", "epochs=1",
                    "--set", f"MMAR_CKPT={weights}")
    assert out.returncode == 0, out.stderr
    assert f"fine-tuning from {weights}" in out.stdout
    assert losses(root / "models")[0] < losses(reference / "models")[0]


def test_fine_tune_from_a_missing_file_says_what_to_give(tmp_path):
    root = make_train_mmar(tmp_path)
    out = run_clara("train", "-m", str(root), "--set", "MMAR_CKPT=models/nothing.weights.h5")
    assert out.returncode == 2
    assert "MMAR_CKPT points at" in out.stderr and ".weights.h5" in out.stderr


def test_fine_tune_from_an_sdk_tf1_checkpoint_says_what_to_do(tmp_path):
    """train_finetune.sh passes MMAR_CKPT=$MMAR_ROOT/models/model.ckpt (TF1 files)."""
    root = make_train_mmar(tmp_path)
    for ext in (".index", ".meta", ".data-00000-of-00001"):
        (root / "models").mkdir(exist_ok=True)
        (root / "models" / f"model.ckpt{ext}").write_bytes(b"tf1")
    out = run_clara("train", "-m", str(root), "--set", f"MMAR_CKPT={root}/models/model.ckpt",
                    "epochs=1")
    assert out.returncode == 2
    assert "TensorFlow 1 checkpoint" in out.stderr and "model_best.weights.h5" in out.stderr
    assert sorted(p.name for p in (root / "models").iterdir() if p.name.startswith("model.")) \
        == ["model.ckpt.data-00000-of-00001", "model.ckpt.index", "model.ckpt.meta"]


def test_resume_without_a_previous_run_says_what_to_do(tmp_path):
    root = make_train_mmar(tmp_path)
    out = run_clara("train", "-m", str(root), "--resume")
    assert out.returncode == 2
    assert "Train without --resume first" in out.stderr


def test_export_saved_model_loads_with_plain_tensorflow(reference, tmp_path):
    out = run_clara("export", "-m", str(reference), "-o", str(tmp_path / "sm"))
    assert out.returncode == 0, out.stderr
    script = (
        "import sys\n"
        "for m in ('keras', 'clara_core', 'clara_models'): sys.modules[m] = None\n"
        "import numpy as np, tensorflow as tf\n"
        "model = tf.saved_model.load(sys.argv[1])\n"
        "x = np.random.default_rng(0).normal(size=(1, 16, 16, 16, 1)).astype('float32')\n"
        "np.save(sys.argv[2], model.serve(x).numpy())\n")
    probe = subprocess.run([sys.executable, "-c", script, str(tmp_path / "sm"),
                            str(tmp_path / "p.npy")], capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-2000:]
    served = np.load(tmp_path / "p.npy")
    import keras

    model = keras.models.load_model(reference / "models" / "model_final.keras")
    model.load_weights(reference / "models" / "model_best.weights.h5")
    x = np.random.default_rng(0).normal(size=(1, 16, 16, 16, 1)).astype("float32")
    np.testing.assert_allclose(served, np.asarray(model(x)), atol=1e-5)


def test_mixed_precision_trains_in_bfloat16_on_cpu(tmp_path):
    root = make_train_mmar(tmp_path, epochs=2)
    out = run_clara("train", "-m", str(root), "--set", "use_amp=true")
    assert out.returncode == 0, out.stderr
    assert "mixed precision: bfloat16" in out.stdout
    assert all(np.isfinite(loss) for loss in losses(root / "models"))


def test_float16_on_a_machine_without_gpu_says_to_use_bfloat16(tmp_path):
    root = make_train_mmar(tmp_path, epochs=1)
    out = run_clara("train", "-m", str(root), "--set", "use_amp=true",
                    "--set", "amp_dtype=float16", env={"CUDA_VISIBLE_DEVICES": ""})
    assert out.returncode == 2 and 'Use "bfloat16"' in out.stderr, out.stderr[-2000:]


def test_deep_supervision_network_trains_and_validates(tmp_path):
    root = make_train_mmar(tmp_path, epochs=2)
    model = {"name": "DynUNet", "args": {
        "num_classes": 2, "kernel_size": [3, 3, 3], "strides": [1, 2, 2],
        "filters": [4, 8, 16], "deep_supervision": True, "data_format": "channels_last"}}
    out = run_clara("train", "-m", str(root), "--set", f"train.model={json.dumps(model)}")
    assert out.returncode == 0, out.stderr
    rows = records(root / "models")
    assert len(rows) == 2 and 0 <= rows[-1]["mean_dice"] <= 1


def test_segresnet_with_vae_branch_trains_on_a_fixed_input_shape(tmp_path):
    root = make_train_mmar(tmp_path, epochs=2, dynamic_input_shape=False)
    model = {"name": "SegResnet", "args": {
        "num_classes": 2, "init_filters": 4, "blocks_down": [1, 1, 1], "blocks_up": [1, 1],
        "use_vae": True, "vae_nz": 16, "data_format": "channels_last"}}
    out = run_clara("train", "-m", str(root), "--set", f"train.model={json.dumps(model)}")
    assert out.returncode == 0, out.stderr[-3000:]
    rows = records(root / "models")
    assert len(rows) == 2 and all(np.isfinite(r["loss"]) for r in rows)


def test_a_corrupt_case_stops_training_by_name_or_is_skipped_and_listed(tmp_path):
    root = make_train_mmar(tmp_path, epochs=1)
    path = root / "data" / "image1.nii.gz"
    path.write_bytes(path.read_bytes()[:300])  # a truncated gzip
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Transform LoadNifti failed on case" in out.stderr
    assert "image1.nii.gz" in out.stderr and "skip_bad_cases" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_clara("train", "-m", str(root), "--no-progress",
                    "--set", "train.image_pipeline.args.skip_bad_cases=true")
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout + out.stderr
    assert "skipped 1 bad training case(s)" in text and "image1.nii.gz" in text
    assert (root / "models" / "model_final.keras").exists()
