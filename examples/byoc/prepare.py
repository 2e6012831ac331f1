"""Write the brain-tissue example's cases as ``.npy`` volumes for MyNumpyLoader.

The same MNI152 grey/white-matter cases as ``examples/brain-tissue-seg`` (nilearn
ships the files; nothing is downloaded): left hemisphere slabs for training, right
hemisphere slabs for validation, each image and label one 3D ``.npy`` array.

    python prepare.py [OUTPUT_DIR]     (default: ./data next to this file)
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def brain_example():  # type: ignore[no-untyped-def]
    path = os.path.join(HERE, "..", "brain-tissue-seg", "prepare.py")
    spec = importlib.util.spec_from_file_location("brain_tissue_prepare", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def main(out_dir: str) -> str:
    brain = brain_example()
    t1, label = brain.tissue_volumes()
    image = np.asarray(t1.dataobj, np.float32)
    mid = image.shape[0] // 2
    halves = {"training": (0, mid, 4), "validation": (mid, image.shape[0], 2)}
    datalist: dict[str, list[dict[str, str]]] = {}
    os.makedirs(out_dir, exist_ok=True)
    for key, (x0, x1, count) in halves.items():
        datalist[key] = []
        for i, (z0, z1) in enumerate(brain.slabs(image.shape[2], count, 64)):
            item = {}
            for field, volume in (("image", image), ("label", label)):
                name = f"{key}_{i}_{field}.npy"
                np.save(os.path.join(out_dir, name), volume[x0:x1, :, z0:z1])
                item[field] = name
            datalist[key].append(item)
    path = os.path.join(out_dir, "dataset.json")
    with open(path, "w") as f:
        json.dump({"description": "MNI152 2 mm grey/white matter as .npy, left vs right",
                   **datalist}, f, indent=2)
    return path


if __name__ == "__main__":
    print("wrote", main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data")))
