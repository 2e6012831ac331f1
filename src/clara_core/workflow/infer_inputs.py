"""The scans ``clara infer`` is given: image files, folders of them (nnU-Net-named
``<case>_XXXX`` files grouped into one case's channels), a folder of DICOM slices, or
a datalist whose items may list one file per channel."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clara_core.config.datalist import load_datalist
from clara_core.errors import ClaraError
from clara_core.image.case_files import IMAGE_ENDINGS, case_name, group_channel_files, stem

IMAGE = "image"


@dataclass(frozen=True)
class InferInput:
    """One scan to segment: a file, a folder holding one DICOM series, or (``files``)
    one file per channel, ``path`` the first."""

    path: str
    name: str
    dicom: bool = False
    files: tuple[str, ...] = ()

    @property
    def image(self) -> str | list[str]:
        """The image field's value for the loader: the path, or the channel files."""
        return list(self.files) if len(self.files) > 1 else self.path


def _is_dicom_file(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(132)[128:] == b"DICM"
    except OSError:
        return False


def expand_inputs(inputs: Sequence[str], key: str | None = None,
                  data_root: str | None = None, endings: Sequence[str] = IMAGE_ENDINGS,
                  takes_channels: Callable[[int], bool] | None = None) -> list[InferInput]:
    """The scans that ``inputs`` name (see the module docstring), in a stable order.

    A folder's files with one of ``endings`` (the installed loaders' formats) are its
    scans; where they follow nnU-Net's ``<case>_0000`` naming, a case is named without
    the suffix and, with N > 1 files a case and ``takes_channels(N)`` (the model takes N
    channels), its files are its channels. A datalist's relative paths resolve against its folder or, where they are
    not there, against ``data_root`` (the MMAR's ``DATA_ROOT``, as training read them).
    """
    found: list[InferInput] = []
    for raw in inputs:
        path = os.path.abspath(raw)
        if os.path.isdir(path):
            found += _folder_inputs(raw, path, endings, takes_channels)
        elif path.endswith(".json"):
            found += _datalist_inputs(path, key, data_root)
        elif os.path.isfile(path) and (path.lower().endswith(".dcm") or _is_dicom_file(path)):
            raise ClaraError(f"{raw} is one DICOM file: give the folder that holds its "
                             f"series ({os.path.dirname(path) or '.'}), one series a folder.")
        elif os.path.exists(path):
            found.append(InferInput(path, stem(path)))
        else:
            raise ClaraError(f"{raw} does not exist; give image files, folders of them, a "
                             "folder of DICOM slices or a datalist .json.")
    return found


def _folder_inputs(raw: str, path: str, endings: Sequence[str],
                   takes_channels: Callable[[int], bool] | None) -> list[InferInput]:
    files = sorted(os.path.join(path, f) for f in os.listdir(path))
    lowered = tuple(e.lower() for e in endings)
    images = [f for f in files if f.lower().endswith(lowered) and os.path.isfile(f)]
    if images:
        cases = group_channel_files(images)
        if cases and len(cases[0]) == 1:  # <case>_0000 only: one channel, named as the case
            return [InferInput(c[0], case_name(c)) for c in cases]
        if cases and takes_channels and takes_channels(len(cases[0])):
            return [InferInput(c[0], case_name(c), files=c) for c in cases]
        return [InferInput(f, stem(f)) for f in images]
    if any(_is_dicom_file(f) or f.lower().endswith(".dcm") for f in files):
        return [InferInput(path, stem(path), dicom=True)]
    raise ClaraError(f"{raw}: a folder without images ({', '.join(endings)}) or DICOM "
                     "slices; give image files, such a folder, or a datalist .json.")


def _datalist_inputs(path: str, key: str | None, data_root: str | None = None
                     ) -> list[InferInput]:
    import json

    from clara_core.config.datalist import check_datalist

    with open(path, encoding="utf-8") as f:
        keys = json.load(f)
    chosen = key or ("testing" if "testing" in keys else "validation")
    base = os.path.dirname(path)
    if data_root and check_datalist(path, base, chosen) \
            and not check_datalist(path, data_root, chosen):
        base = data_root  # the MMAR's own datalist: its paths are under DATA_ROOT
    items = load_datalist(path, base, chosen)
    out = []
    for item in items:
        image = item.get(IMAGE) if isinstance(item, dict) else item
        if isinstance(image, list) and len(image) > 1 and all(isinstance(f, str) for f in image):
            out.append(InferInput(image[0], case_name(image), files=tuple(image)))
            continue
        if isinstance(image, list) and len(image) == 1:
            image = image[0]
        if not isinstance(image, str):
            raise ClaraError(f"{path}: an item of {chosen!r} has no image path (a file, or "
                             f"a list of files, one per channel): {item!r}.")
        out.append(InferInput(image, stem(image), dicom=os.path.isdir(image)))
    return out
