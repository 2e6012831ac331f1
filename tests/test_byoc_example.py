"""The seed's own BYOC examples (examples/byoc) train through ``"path"`` from ``custom/``."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO, run_clara

BYOC = REPO / "examples" / "byoc"


def test_byoc_mmar_trains_with_the_seeds_custom_components(tmp_path):
    prepared = subprocess.run([sys.executable, str(BYOC / "prepare.py"), str(tmp_path / "data")],
                              capture_output=True, text=True, timeout=300)
    assert prepared.returncode == 0, prepared.stderr
    out = run_clara("train", "-m", str(BYOC), "--no-progress",
                    "--set", "epochs=2", "--set", "num_training_epoch_per_valid=1",
                    "--set", f"DATA_ROOT={tmp_path / 'data'}",
                    "--set", f"DATASET_JSON={tmp_path / 'data' / 'dataset.json'}",
                    "--set", f"MMAR_CKPT_DIR={tmp_path / 'models'}",
                    "--set", f"MMAR_EVAL_OUTPUT_PATH={tmp_path / 'eval'}")
    assert out.returncode == 0, out.stdout + out.stderr
    # MyClonedDiceLoss's own prints (once per trace) show it was the loss in use
    assert "dice_loss is_channels_first: False skip_background: True" in out.stdout
    rows = [json.loads(line) for line in (tmp_path / "models" / "metrics.jsonl").open()]
    assert [r["epoch"] for r in rows] == [1, 2]
    # SampleComputeAverage over the scaled image: the same value at every validation
    assert 0 < rows[0]["mean_image_intensity"] == rows[1]["mean_image_intensity"] < 1
    assert (tmp_path / "eval" / "mean_dice_raw.csv").exists()
    assert (tmp_path / "eval" / "mean_image_intensity_summary.txt").exists()
