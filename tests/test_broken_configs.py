"""Every broken config of the corpus exits 2 with its message, naming the JSON location."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_clara

CORPUS_DIR = Path(__file__).parent / "broken_configs"
CORPUS = sorted(CORPUS_DIR.glob("*.json"))

CUSTOM_LOSS = '''
from clara_core import Loss


class CustomLoss(Loss):
    def get_loss(self, predictions, targets, build_ctx=None):
        return 0.0


class NotALoss:
    pass
'''


def make_mmar(root: Path, case: dict) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "custom").mkdir()
    (root / "custom" / "custom_loss.py").write_text(CUSTOM_LOSS)
    for sub, name in (("images", "a"), ("labels", "a"), ("images", "b"), ("labels", "b")):
        (root / "data" / sub).mkdir(parents=True, exist_ok=True)
        (root / "data" / sub / f"{name}.nii.gz").write_bytes(b"")
    (root / "data" / "dataset.json").write_text(json.dumps({
        "training": [{"image": "images/a.nii.gz", "label": "labels/a.nii.gz"}],
        "validation": [{"image": "images/b.nii.gz", "label": "labels/b.nii.gz"}],
    }))
    for f in case.get("remove_files", []):
        os.remove(root / f)
    env = {"DATA_ROOT": "data", "DATASET_JSON": "data/dataset.json", **case.get("env", {})}
    (root / "config" / "environment.json").write_text(json.dumps(env))
    text = case.get("raw_config") or json.dumps(case["config"], indent=2)
    (root / "config" / "config_train.json").write_text(text)
    return root


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 30


def test_corpus_base_config_is_valid(tmp_path):
    base = json.loads(CORPUS[0].read_text())
    base["config"]["train"]["loss"]["args"].pop("smoth")
    out = run_clara("config", "check", "-m", str(make_mmar(tmp_path, base)))
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_broken_config_message(path, tmp_path):
    case = json.loads(path.read_text())
    mmar = make_mmar(tmp_path, case)
    args = ["config", "check", "-m", str(mmar)]
    for item in case.get("set", []):
        args += ["--set", item]
    out = run_clara(*args)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    for text in case["expect"]:
        assert text in out.stderr, f"expected {text!r} in:\n{out.stderr}"
