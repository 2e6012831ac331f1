"""Turn nilearn's MNI152 T1 template and tissue maps into NIfTI cases and a datalist.

Nothing is downloaded: nilearn ships these files. Labels: 0 background/CSF,
1 grey matter, 2 white matter (the most probable tissue where its probability
exceeds 0.5). The left hemisphere (x < midline) gives the training cases, the
right hemisphere the validation cases, so validation is on anatomy the network
never saw. Each hemisphere is cut into overlapping slabs along z, one case each.

    python prepare.py [OUTPUT_DIR]     (default: ./data next to this file)
"""

from __future__ import annotations

import json
import os
import sys

import nibabel as nib
import numpy as np


def tissue_volumes() -> tuple[nib.Nifti1Image, np.ndarray]:
    from nilearn import datasets

    t1 = datasets.load_mni152_template(resolution=2)
    gm = np.asarray(datasets.load_mni152_gm_template(resolution=2).dataobj, np.float32)
    wm = np.asarray(datasets.load_mni152_wm_template(resolution=2).dataobj, np.float32)
    label = np.zeros(gm.shape, np.uint8)
    label[(gm > 0.5) & (gm >= wm)] = 1
    label[(wm > 0.5) & (wm > gm)] = 2
    return t1, label


def slabs(depth: int, count: int, size: int) -> list[tuple[int, int]]:
    starts = np.linspace(0, depth - size, count).round().astype(int)
    return [(int(s), int(s) + size) for s in starts]


def main(out_dir: str) -> str:
    t1, label = tissue_volumes()
    image = np.asarray(t1.dataobj, np.float32)
    affine = t1.affine
    mid = image.shape[0] // 2
    halves = {"training": (0, mid), "validation": (mid, image.shape[0])}
    datalist: dict[str, list[dict[str, str]]] = {"training": [], "validation": []}
    for sub in ("images", "labels"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    for key, (x0, x1) in halves.items():
        count = 4 if key == "training" else 2
        for i, (z0, z1) in enumerate(slabs(image.shape[2], count, 64)):
            name = f"{key}_{i}.nii.gz"
            shift = np.eye(4)
            shift[:3, 3] = [x0, 0, z0]
            case_affine = affine @ shift  # keep each slab's true position in MNI space
            nib.save(nib.Nifti1Image(image[x0:x1, :, z0:z1], case_affine),
                     os.path.join(out_dir, "images", name))
            nib.save(nib.Nifti1Image(label[x0:x1, :, z0:z1], case_affine),
                     os.path.join(out_dir, "labels", name))
            datalist[key].append({"image": f"images/{name}", "label": f"labels/{name}"})
    path = os.path.join(out_dir, "dataset.json")
    with open(path, "w") as f:
        json.dump({"description": "MNI152 2 mm grey/white matter, left vs right hemisphere",
                   "labels": {"0": "background", "1": "grey matter", "2": "white matter"},
                   **datalist}, f, indent=2)
    return path


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    print("wrote", main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "data")))
