"""examples/clara-pack-mri, a pack published outside this repository's plugins:
pip-installed into a fresh environment next to clara-core, then used by name."""

from __future__ import annotations

import json

import pytest
from conftest import REPO
from fresh_env import FreshEnv
from train_mmar import make_train_mmar, records

# the slow tier: pip installs the pack into a fresh environment
pytestmark = pytest.mark.slow

PACK = REPO / "examples" / "clara-pack-mri"


def test_third_party_pack_installs_and_trains_by_name(tmp_path):
    env = FreshEnv(tmp_path / "env")
    before = env.clara("components", "show", "LogCoshDice")
    assert before.returncode == 2, "the pack is not part of clara's own distributions"
    env.install(PACK)
    shown = env.clara("components", "show", "LogCoshDice")
    assert shown.returncode == 0 and "clara-pack-mri" in shown.stdout, shown.stderr

    mmar = make_train_mmar(tmp_path / "mmar", epochs=2)
    config = json.loads((mmar / "config" / "config_train.json").read_text())
    config["train"]["loss"] = {"name": "LogCoshDice", "args": {"data_format": "channels_last"}}
    config["train"]["pre_transforms"].insert(
        2, {"name": "ZScoreNonzero", "args": {"fields": ["image"]}})
    (mmar / "config" / "config_train.json").write_text(json.dumps(config))
    out = env.clara("train", "-m", str(mmar), "--no-progress")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    rows = records(mmar / "models")
    assert len(rows) == 2 and rows[-1]["loss"] >= 0

    tests = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(PACK / "tests"),
                    "--rootdir", str(tmp_path), "--import-mode=importlib")
    assert tests.returncode == 0, tests.stdout[-3000:]
