"""The brain-tissue example MMAR trains briefly with each segmentation network."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, run_clara

# the slow tier: one training run per catalog network
pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "brain-tissue-seg"
NETWORKS = {
    "Unet": {"num_classes": 3, "filters": 8, "depth": 3, "data_format": "channels_last"},
    "SegResnet": {"num_classes": 3, "init_filters": 8, "blocks_down": [1, 2, 2, 4],
                  "blocks_up": [1, 1, 1], "data_format": "channels_last"},
    "DynUNet": {"num_classes": 3, "kernel_size": [3, 3, 3, 3], "strides": [1, 2, 2, 2],
                "filters": [8, 16, 32, 64], "deep_supervision": True,
                "data_format": "channels_last"},
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brain") / "data"
    out = subprocess.run([sys.executable, str(EXAMPLE / "prepare.py"), str(folder)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return folder


@pytest.mark.parametrize("name", list(NETWORKS))
def test_example_trains_with(name, data, tmp_path):
    model = {"name": name, "args": NETWORKS[name]}
    out = run_clara("train", "-m", str(EXAMPLE), "--no-progress",
                    "--set", "epochs=2", "--set", "num_training_epoch_per_valid=2",
                    "--set", f"train.model={json.dumps(model)}",
                    "--set", f"DATA_ROOT={data}", "--set", f"DATASET_JSON={data / 'dataset.json'}",
                    "--set", f"MMAR_CKPT_DIR={tmp_path / 'models'}",
                    "--set", f"MMAR_EVAL_OUTPUT_PATH={tmp_path / 'eval'}")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "models" / "metrics.jsonl").open()]
    assert [r["epoch"] for r in rows] == [1, 2]
    assert rows[1]["loss"] < rows[0]["loss"] + 0.05 and 0 <= rows[1]["mean_dice"] <= 1
    assert (tmp_path / "models" / "model_final.keras").exists()
