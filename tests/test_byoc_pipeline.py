"""A pipeline written from the BYOC guide's contract alone (the ``DataPipeline`` base,
not the built-in engine) trains and validates end to end with the real command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from conftest import REPO, run_clara

PAGE = REPO / "docs" / "byoc" / "01-data-pipeline.md"


def guide_module(name: str) -> str:
    """The guide's python block that starts with ``# custom/<name>``."""
    for block in re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S):
        if block.startswith(f"# custom/{name}"):
            return block
    raise AssertionError(f"{PAGE.name} has no block for custom/{name}")


def make_patch_mmar(root: Path) -> Path:
    rng = np.random.default_rng(0)
    (root / "custom").mkdir(parents=True)
    (root / "custom" / "patch_pipeline.py").write_text(guide_module("patch_pipeline.py"))
    data = root / "data"
    data.mkdir()
    items = []
    for i in range(5):
        label = np.zeros((1, 16, 16, 16), np.float32)
        label[0, 4:12, 4:12, 4:12] = 1
        image = label * 2 + rng.normal(scale=0.3, size=label.shape).astype(np.float32)
        np.save(data / f"img{i}.npy", image)
        np.save(data / f"seg{i}.npy", label)
        items.append({"image": f"img{i}.npy", "label": f"seg{i}.npy"})
    (data / "patches.json").write_text(json.dumps({"training": items[:4],
                                                   "validation": items[4:]}))
    pipeline = {"path": "patch_pipeline.NumpyPatchPipeline",
                "args": {"data_list_file_path": "data/patches.json"}}
    config = {
        "epochs": 2, "learning_rate": 0.01, "determinism": {"random_seed": 3},
        "train": {
            "model": {"name": "Unet", "args": {"num_classes": 2, "filters": 4, "depth": 2}},
            "loss": {"name": "Dice"},
            "optimizer": {"name": "Adam"},
            "image_pipeline": pipeline,
        },
        "validate": {
            "metrics": [{"name": "ComputeAverageDice",
                         "args": {"name": "mean_dice", "is_key_metric": True}}],
            "image_pipeline": {**pipeline, "args": {**pipeline["args"],
                                                    "data_list_key": "validation"}},
            "inferer": {"name": "TFSimpleInferer"},
        },
    }
    (root / "config").mkdir()
    (root / "config" / "config_train.json").write_text(json.dumps(config))
    return root


def test_guide_pipeline_trains_and_validates(tmp_path):
    mmar = make_patch_mmar(tmp_path / "mmar")
    out = run_clara("train", "-m", str(mmar), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [json.loads(x) for x in (mmar / "models" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert all(r["steps"] == 2 for r in lines)  # 4 patches, batches of 2
    assert 0.0 <= lines[-1]["mean_dice"] <= 1.0
    assert (mmar / "models" / "model_final.keras").exists()
