"""How a case's files are named: the case name of an image file, and nnU-Net's
convention for cases stored one file per channel (``<case>_0000``, ``_0001``, ...).

``clara plan`` and ``clara infer`` name cases and their outputs with these rules, so a
case has one name wherever it appears.

>>> case_name("/scans/case_07.nii.gz"), case_name(["im/b_0000.png", "im/b_0001.png"])
('case_07', 'b')
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

#: the endings of the image files our loaders read, longest first where one contains
#: another (``.nii.gz`` before ``.gz``); a case's name is its file name without one
IMAGE_ENDINGS = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd", ".nhdr", ".gipl.gz", ".gipl",
                 ".vtk", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".npy", ".npz",
                 ".mat")

#: nnU-Net's channel suffix at the end of a file's stem: ``_0000`` is channel 0
CHANNEL_SUFFIX = re.compile(r"_(\d{4})$")


def stem(path: str) -> str:
    """The file or folder name without its image ending (any case).

    >>> stem("/scans/case_07.nii.gz"), stem("/scans/CT.MHA"), stem("/dicom/series1/")
    ('case_07', 'CT', 'series1')
    >>> stem("frame.v2.jpg"), stem("notes")
    ('frame.v2', 'notes')
    """
    name = os.path.basename(os.path.normpath(path))
    lowered = name.lower()
    for ending in IMAGE_ENDINGS:
        if lowered.endswith(ending):
            return name[: -len(ending)]
    return name


def case_name(paths: str | Sequence[str]) -> str:
    """The name of the case in ``paths`` (a file, or its channel files in order): the
    first file's stem, less the channel suffix when every file has one (a lone file
    given as such keeps its whole stem).

    >>> case_name(["/s/case_07_0000.nii.gz", "/s/case_07_0001.nii.gz"])
    'case_07'
    >>> case_name(["/s/t1.nii.gz", "/s/t2.nii.gz"]), case_name(["/s/liver_0000.nii.gz"])
    ('t1', 'liver')
    >>> case_name("/s/liver_0000.nii.gz")
    'liver_0000'
    """
    if isinstance(paths, str):
        return stem(paths)
    names = [stem(p) for p in paths]
    if all(CHANNEL_SUFFIX.search(n) for n in names):
        return names[0][:-5]
    return names[0]


def group_channel_files(files: Sequence[str]) -> list[tuple[str, ...]] | None:
    """``files`` (one folder's images) as cases of channel files, in case then channel
    order, when they follow nnU-Net's naming: every stem ends in ``_XXXX`` and each case
    has channels ``0000`` to ``N-1``, N the same for all. None when they do not (each
    file is then a case of its own).

    >>> group_channel_files(["a_0001.nii", "a_0000.nii", "b_0000.nii", "b_0001.nii"])
    [('a_0000.nii', 'a_0001.nii'), ('b_0000.nii', 'b_0001.nii')]
    >>> group_channel_files(["a_0000.nii", "b_0000.nii"])
    [('a_0000.nii',), ('b_0000.nii',)]
    >>> group_channel_files(["scan_0001.nii", "scan_0002.nii"]) is None
    True
    """
    cases: dict[str, dict[int, str]] = {}
    for f in files:
        found = CHANNEL_SUFFIX.search(stem(f))
        if found is None:
            return None
        cases.setdefault(stem(f)[:-5], {})[int(found.group(1))] = f
    counts = {len(channels) for channels in cases.values()}
    if len(counts) != 1 or any(sorted(c) != list(range(len(c))) for c in cases.values()):
        return None
    return [tuple(channels[c] for c in sorted(channels)) for _, channels in sorted(cases.items())]


__all__ = ["CHANNEL_SUFFIX", "IMAGE_ENDINGS", "case_name", "group_channel_files", "stem"]
