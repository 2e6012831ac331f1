"""A seeded fuzzer over the example configs: a tiny MMAR, the configs shrunk to fit it,
and mutants of them (a deleted key, a wrong type, a huge, negative or non-finite number,
an odd string, a null), each one change at a JSON location.

>>> import random
>>> cfg = {"a": {"b": [1, 2]}, "c": "x"}
>>> mutant, what = mutate(cfg, random.Random(3))
>>> mutant != cfg and cfg == {"a": {"b": [1, 2]}, "c": "x"}, what.split(":")[0] in LOCATIONS(cfg)
(True, True)
"""

from __future__ import annotations

import copy
import json
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "clara-v3-configs"

#: name -> the config file a base comes from (the SDK's only where ../shared has them)
SOURCES = {
    "brain": REPO / "examples" / "brain-tissue-seg" / "config" / "config_train.json",
    "byoc": REPO / "examples" / "byoc" / "config" / "config_train.json",
    "trn_base": SHARED / "trn_base.json",
    "trn_base_AMP": SHARED / "trn_base_AMP.json",
    "trn_BYOC_Arch_loss": SHARED / "trn_BYOC_Arch_loss.json",
    "trn_BYOC_DataLoader": SHARED / "trn_BYOC_DataLoader.json",
    "config_validation": SHARED / "config_validation.json",
    "config_validation_chpt": SHARED / "config_validation_chpt.json",
}

#: the bases ``clara train`` runs (the others are validation configs: checked only)
TRAINABLE = tuple(name for name in SOURCES if not name.startswith("config_validation"))

SIDE = 16  # the cases are SIDE^3 (plus a little), the crops SIDE^3

Path_ = tuple[str | int, ...]


def bases() -> dict[str, dict[str, Any]]:
    """The example configs that exist here, shrunk to train in seconds on tiny data."""
    return {name: shrink(json.loads(path.read_text()), name)
            for name, path in SOURCES.items() if path.is_file()}


def shrink(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    """``cfg`` made small: crops, windows and networks sized for SIDE^3 cases, one
    epoch, few workers; the data of the SDK's numpy loader example is the .npy datalist."""
    cfg = copy.deepcopy(cfg)

    def visit(node: Any, key: str = "") -> Any:
        if isinstance(node, dict):
            return {k: visit(v, k) for k, v in node.items()}
        if isinstance(node, list):
            if len(node) == 3 and all(isinstance(v, int) and v >= 32 for v in node):
                return [SIDE] * 3
            return [visit(v) for v in node]
        if key in ("output_batch_size", "num_samples", "batch_size") and isinstance(node, int):
            return min(node, 2)
        if key in ("num_workers", "prefetch_size") and isinstance(node, int):
            return 1
        if key in ("filters", "factor") and isinstance(node, int):
            return 4
        if key in ("nf_enc", "nf_dec") and isinstance(node, str):
            return ",".join("4" for _ in node.split(","))
        return node

    cfg = visit(cfg)
    cfg.update(epochs=1, num_training_epoch_per_valid=1)
    if name == "trn_BYOC_DataLoader":
        for t in cfg["train"]["pre_transforms"]:
            if "out_dir" in t.get("args", {}):
                t["args"]["out_dir"] = "debug"
    return cfg


def environment(name: str) -> dict[str, str]:
    """The environment file of base ``name`` (the numpy loaders read the .npy datalist)."""
    npy = name in ("byoc", "trn_BYOC_DataLoader")
    return {"DATA_ROOT": "data", "DATASET_JSON": f"data/dataset{'_npy' if npy else ''}.json",
            "MMAR_CKPT_DIR": "models", "MMAR_EVAL_OUTPUT_PATH": "eval",
            "PROCESSING_TASK": "segmentation"}


def make_mmar(root: Path, cases: int = 3) -> Path:
    """An MMAR folder with ``custom/`` (the BYOC modules) and ``cases`` cases of
    SIDE+4 voxels a side, as NIfTI and .npy, each with a datalist."""
    (root / "config").mkdir(parents=True)
    shutil.copytree(REPO / "examples" / "byoc" / "custom", root / "custom")
    data = root / "data"
    (data / "npy").mkdir(parents=True)
    items, npy_items = [], []
    for i in range(cases):
        rng = np.random.default_rng(i)
        label = np.zeros((SIDE + 4,) * 3, np.uint8)
        c = rng.integers(6, SIDE - 2, size=3)
        label[c[0] - 4:c[0] + 4, c[1] - 4:c[1] + 4, c[2] - 4:c[2] + 4] = 1
        image = (label * 2.0 + rng.normal(scale=0.3, size=label.shape)).astype(np.float32)
        for kind, array in (("image", image), ("label", label)):
            nib.save(nib.Nifti1Image(array, np.eye(4)), data / f"{kind}{i}.nii.gz")
            np.save(data / "npy" / f"{kind}{i}.npy", array)
        items.append({"image": f"image{i}.nii.gz", "label": f"label{i}.nii.gz"})
        npy_items.append({"image": f"npy/image{i}.npy", "label": f"npy/label{i}.npy"})
    for name, listed in (("dataset.json", items), ("dataset_npy.json", npy_items)):
        (data / name).write_text(json.dumps({"training": listed[:-1],
                                             "validation": listed[-1:]}))
    return root


def write_config(root: Path, tag: str, name: str, cfg: dict[str, Any]) -> list[str]:
    """Write ``cfg`` (and its base's environment) into ``root/config``; the ``-m -c -e``
    arguments of ``clara`` for it."""
    (root / "config" / f"{tag}.json").write_text(json.dumps(cfg))
    env = root / "config" / f"environment_{name}.json"
    if not env.exists():
        env.write_text(json.dumps(environment(name)))
    return ["-m", str(root), "-c", f"config/{tag}.json", "-e", f"config/{env.name}"]


# -- mutating ----------------------------------------------------------------------------

def LOCATIONS(cfg: Any, path: Path_ = ()) -> list[str]:  # noqa: N802 (a doctest helper)
    """Every location of ``cfg`` as a dotted string."""
    return [".".join(map(str, p)) for p in _paths(cfg, path)]


def _paths(node: Any, path: Path_ = ()) -> list[Path_]:
    out: list[Path_] = [path] if path else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


ODD_STRINGS = ["", " ", "null", "NaN", "../../../etc/passwd", "/dev/zero", "\u0000",
               "\U0001f4a5" * 3, "x" * 5000, "{UNDEFINED_VAR}", "#", "a#b#c", "1e999",
               "image ", "IMAGE", "channels_middle"]
NUMBERS = [10 ** 12, -(10 ** 12), -1, 0, 1, 2 ** 63, 1e308, -1e-300, math.nan, math.inf,
           -math.inf, 0.5, 3]


def _value(rng: random.Random, old: Any) -> tuple[Any, str]:
    """A replacement for ``old``: (value, what kind of change)."""
    kind = rng.choice(["null", "number", "string", "type", "number", "string"])
    if kind == "null":
        return None, "null"
    if kind == "number":
        return rng.choice(NUMBERS), "number"
    if kind == "string":
        return rng.choice(ODD_STRINGS), "string"
    if isinstance(old, list) and old:  # a list of numbers: one huge or odd element
        return [rng.choice(NUMBERS) for _ in old], "list"
    return rng.choice([[], {}, [1, 2], {"a": 1}, True, "1", 1.5]), "type"


def mutate(cfg: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], str]:
    """One mutant of ``cfg`` (a copy): "location: change"."""
    mutant = copy.deepcopy(cfg)
    path = rng.choice(_paths(mutant))
    parent: Any = mutant
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    where = ".".join(map(str, path))
    if rng.random() < 0.2:
        del parent[last]
        return mutant, f"{where}: deleted"
    old = parent[last]
    if isinstance(old, list) and old and all(isinstance(v, int) for v in old) \
            and rng.random() < 0.5:  # a size: one axis huge, negative or zero
        new = list(old)
        new[rng.randrange(len(new))] = rng.choice([10 ** 12, -16, 0, 2 ** 31, 10 ** 6])
        parent[last] = new
        return mutant, f"{where}: {json.dumps(new)}"
    value, kind = _value(rng, old)
    parent[last] = value
    shown = json.dumps(value)
    return mutant, f"{where}: {kind} {shown[:40]}"


def mutants(seed: int, count: int,
            pick: Callable[[random.Random], str] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """``count`` mutants (base name, change, config) drawn with ``seed``."""
    rng = random.Random(seed)
    base = bases()
    names = sorted(base)
    out = []
    for _ in range(count):
        name = pick(rng) if pick else rng.choice(names)
        cfg, what = mutate(base[name], rng)
        out.append((name, what, cfg))
    return out
