"""Out of memory is a message: TensorFlow's ``ResourceExhaustedError`` and NumPy's
``MemoryError`` in ``clara train``, ``validate`` and ``infer`` end with one line naming
the shape that did not fit, the config values that set it and what to try; training
says where its resume point is. No traceback.

Allocations fail fast rather than swap: the fast test asks NumPy for 256 GiB at once,
which Linux refuses outright under its default overcommit heuristic; the slow ones run
``clara`` in a process whose address space is capped (``RLIMIT_AS``), so TensorFlow's
allocator refuses the step's first large tensor."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_clara
from train_mmar import make_train_mmar

from clara_core.workflow.out_of_memory import OutOfMemory, explain_out_of_memory

SDK = Path("/work/shared/clara-v3-configs/trn_base.json")


def overcommit_refuses_huge_allocations() -> bool:
    try:
        return Path("/proc/sys/vm/overcommit_memory").read_text().strip() != "1"
    except OSError:
        return False


def performance_config() -> dict:
    """The SDK's Performance settings on its base config: batch 12 of 96^3 crops, 32 filters."""
    config = copy.deepcopy(json.loads(SDK.read_text()))
    config["train"]["image_pipeline"]["args"]["output_batch_size"] = 12
    for t in config["train"]["pre_transforms"]:
        if "size" in t.get("args", {}):
            t["args"]["size"] = [96, 96, 96]
    config["train"]["model"]["args"]["nf_enc"] = "32,64,64,64"
    return config


@pytest.mark.skipif(not SDK.exists(), reason="the SDK's example configs are not here")
def test_the_performance_configs_resource_exhausted_error_is_a_message():
    import tensorflow as tf

    oom = tf.errors.ResourceExhaustedError(
        None, None, "OOM when allocating tensor with shape[12,32,96,96,96] and type float "
        "on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu")
    with pytest.raises(OutOfMemory) as info, explain_out_of_memory(
            "train", performance_config(), resume=lambda: "A resume point at epoch 2 is in m."):
        raise oom
    text = str(info.value)
    assert "ResourceExhaustedError): a tensor of shape 12x32x96x96x96 (float) on CPU:0" in text
    assert "batch size 12 (train.image_pipeline.args.output_batch_size)" in text
    assert "crop size [96, 96, 96] (FastPosNegRatioCropROI's size)" in text
    assert "model width 32,64,64,64 (train.model.args.nf_enc)" in text
    assert "--set train.image_pipeline.args.output_batch_size=6" in text
    assert "--set use_amp=true" in text and "num_workers=1" in text
    assert text.endswith("A resume point at epoch 2 is in m.")


def test_other_errors_pass_through():
    with pytest.raises(ValueError, match="not memory"), explain_out_of_memory("train", {}):
        raise ValueError("not memory")


@pytest.mark.skipif(not overcommit_refuses_huge_allocations(),
                    reason="this kernel would grant a 256 GiB allocation and then swap")
def test_inference_out_of_host_memory_is_a_message(trained_mmar, tmp_path):
    out = run_clara("infer", "-m", str(trained_mmar), "-i",
                    str(trained_mmar / "data" / "image0.nii.gz"), "-o", str(tmp_path),
                    "--roi-size", "4096", "4096", "4096", "--no-progress")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "clara infer ran out of memory (NumPy's MemoryError): an array of shape " \
           "1x4096x4096x4096x1" in out.stderr
    assert "window size [4096, 4096, 4096] (--roi-size)" in out.stderr
    assert "Traceback" not in out.stderr


LIMITED = """
import resource, sys
limit = int(sys.argv[1]) * 2 ** 30
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from clara_core.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_limited(gib: int, *args: str) -> subprocess.CompletedProcess[str]:
    """``clara ARGS`` in a process of at most ``gib`` GiB of address space."""
    return subprocess.run([sys.executable, "-c", LIMITED, str(gib), *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_training_with_a_huge_batch_is_a_message(tmp_path):
    root = make_train_mmar(tmp_path / "mmar", cases=3, epochs=1)
    out = run_limited(4, "train", "-m", str(root), "--no-progress",
                      "--set", "train.image_pipeline.args.output_batch_size=4096")
    assert out.returncode == 2, out.stdout + out.stderr[-3000:]
    assert "clara train ran out of memory (TensorFlow's ResourceExhaustedError): a tensor " \
           "of shape 4096x" in out.stderr
    assert "batch size 4096 (train.image_pipeline.args.output_batch_size)" in out.stderr
    assert "--set train.image_pipeline.args.output_batch_size=2048" in out.stderr
    assert "no resume point" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_inference_with_a_huge_window_batch_is_a_message(trained_mmar, tmp_path):
    out = run_limited(4, "infer", "-m", str(trained_mmar), "-i",
                      str(trained_mmar / "data" / "image0.nii.gz"), "-o", str(tmp_path),
                      "--roi-size", "64", "64", "64", "--sw-batch-size", "1024")
    assert out.returncode == 2, out.stdout + out.stderr[-3000:]
    assert "clara infer ran out of memory" in out.stderr
    assert "Traceback" not in out.stderr


def test_config_check_warns_when_activations_clearly_exceed_memory(tmp_path):
    """The Performance settings (batch 12 of 96^3 crops, 32 filters) on a 24 GB machine:
    a warning, not an error; the small config says nothing."""
    from clara_core.workflow.out_of_memory import memory_found

    root = make_train_mmar(tmp_path / "mmar", cases=2)
    out = run_clara("config", "check", "-m", str(root))
    assert out.returncode == 0 and "warning" not in out.stdout, out.stdout + out.stderr
    config = json.loads((root / "config" / "config_train.json").read_text())
    config["train"]["image_pipeline"]["args"]["output_batch_size"] = 12
    config["train"]["pre_transforms"][2]["args"]["size"] = [96, 96, 96]
    config["train"]["model"]["args"]["filters"] = 32
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    out = run_clara("config", "check", "-m", str(root))
    assert out.returncode == 0, out.stdout + out.stderr
    if memory_found()[0] < 25 * 2**30:  # about 25 GiB of activations
        assert "warning: the training activations need about 25 GiB (batch 12 x crop " \
               "96x96x96 x width 32" in out.stdout
        assert "--set train.image_pipeline.args.output_batch_size=6" in out.stdout
