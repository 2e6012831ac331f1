"""What ``clara plan`` reads: a datalist JSON (the MSD / nnU-Net v1 form or the SDK's
form) or an nnU-Net v2 dataset folder, as a list of cases with paths resolved. A case's
image is one file, or one file per channel (nnU-Net v2's ``<case>_0000``, ``_0001``, ...;
a datalist's ``"image": [...]``), which the loaders stack into one multi-channel image.

>>> import json, os, tempfile
>>> root = tempfile.mkdtemp()
>>> with open(os.path.join(root, "dataset.json"), "w") as f:
...     json.dump({"modality": {"0": "CT"}, "labels": {"0": "background", "1": "liver"},
...                "training": [{"image": "./imagesTr/a.nii.gz", "label": "./labelsTr/a.nii.gz"}],
...                "test": ["./imagesTs/b.nii.gz"]}, f)
>>> ds = read_dataset(os.path.join(root, "dataset.json"))
>>> ds.form, ds.training[0].name, ds.training[0].image, ds.testing[0].image
('datalist', 'a', 'imagesTr/a.nii.gz', 'imagesTs/b.nii.gz')
>>> ds.modalities, ds.labels
(['CT'], {0: 'background', 1: 'liver'})
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass, field
from typing import Any

from clara_core.errors import ClaraError
from clara_core.image.case_files import case_name

#: region name -> the label values it covers (regions may overlap)
Regions = dict[str, tuple[int, ...]]


class PlanError(ClaraError):
    """A dataset ``clara plan`` cannot plan; the message names the cases and the fix."""


@dataclass(frozen=True)
class Case:
    """One case: paths relative to the dataset's root (as the MMAR's datalist holds them);
    ``image`` one file, or a tuple of files, one per channel."""

    name: str
    image: str | tuple[str, ...]
    label: str | None = None

    @property
    def images(self) -> tuple[str, ...]:
        """The image's files: one, or one per channel.

        >>> Case("a", "a.nii").images, Case("b", ("b_0000.nii", "b_0001.nii")).images
        (('a.nii',), ('b_0000.nii', 'b_0001.nii'))
        """
        return (self.image,) if isinstance(self.image, str) else self.image

    def item(self) -> dict[str, Any]:
        image = self.image if isinstance(self.image, str) else list(self.image)
        return {"image": image, **({"label": self.label} if self.label else {})}


@dataclass(frozen=True)
class Dataset:
    """A dataset: where it is, its cases, channel names (modalities) and label names."""

    source: str
    root: str
    form: str
    training: list[Case]
    validation: list[Case] = field(default_factory=list)
    testing: list[Case] = field(default_factory=list)
    modalities: list[str] = field(default_factory=list)
    labels: dict[int, str] | None = None
    #: region-based labels: each region's name and label values, in output order
    regions: Regions | None = None
    #: nnU-Net v2's ``regions_class_order``: the label value each region paints, in
    #: order, when region outputs are turned back into one label map
    regions_class_order: tuple[int, ...] | None = None

    def path(self, relative: str) -> str:
        return os.path.join(self.root, relative)


def read_dataset(path: str) -> Dataset:
    """The dataset at ``path``: a datalist ``.json``, a folder holding one as
    ``dataset.json`` (an MSD task folder), or an nnU-Net v2 folder."""
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "dataset.json")):
            raise PlanError(f"{path} is a folder without dataset.json: give a datalist JSON "
                            "(training list of image/label) or an nnU-Net v2 dataset folder "
                            "(dataset.json, imagesTr/, labelsTr/).")
        described = os.path.join(path, "dataset.json")
        data = _read(described)
        if "training" in data and "channel_names" not in data:  # an MSD folder
            return _datalist(described, data)
        return _nnunet_v2(os.path.abspath(path), data)
    if not os.path.isfile(path):
        raise PlanError(f"dataset {path} not found: give a datalist JSON file or an nnU-Net "
                        "v2 dataset folder.")
    data = _read(path)
    if "channel_names" in data and "training" not in data:
        return _nnunet_v2(os.path.dirname(os.path.abspath(path)), data)
    return _datalist(path, data)


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise PlanError(f"cannot read dataset description {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PlanError(f"{path} must hold a JSON object (a datalist or nnU-Net dataset.json).")
    return data


def _rel(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise PlanError(f"{where}: expected a file path, found {value!r}.")
    return os.path.normpath(value)


def _image(value: Any, where: str) -> str | tuple[str, ...]:
    """One file, or a list of files (one per channel); a list of one is that file."""
    if not isinstance(value, list):
        return _rel(value, where)
    if not value:
        raise PlanError(f'{where}: "image" is an empty list; give a file, or one file per '
                        "channel.")
    files = tuple(_rel(v, where) for v in value)
    return files[0] if len(files) == 1 else files


def _cases(data: dict[str, Any], key: str, source: str, labelled: bool) -> list[Case]:
    items = data.get(key) or []
    if not isinstance(items, list):
        raise PlanError(f"{source}: {key!r} must be a list of cases.")
    out = []
    for i, item in enumerate(items):
        where = f"{source} {key}[{i}]"
        if isinstance(item, str):
            item = {"image": item}
        if not isinstance(item, dict) or "image" not in item:
            raise PlanError(f'{where}: each case must be an object with an "image" key.')
        label = _rel(item["label"], where) if labelled and "label" in item else None
        if labelled and label is None:
            raise PlanError(f'{where}: a training case needs a "label" file.')
        image = _image(item["image"], where)
        out.append(Case(case_name(image), image, label))
    return out


def _label_names(raw: Any, source: str) -> tuple[dict[int, str] | None, Regions | None]:
    """The label values and their names; with region-based labels (nnU-Net v2's
    ``"whole tumour": [1, 2, 3]``: any entry a list of values) also the regions, each
    entry other than the background in order.

    >>> _label_names({"background": 0, "core": [1, 2], "centre": 2}, "ds")
    ({0: 'background', 1: 'label_1', 2: 'centre'}, {'core': (1, 2), 'centre': (2,)})
    """
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise PlanError(f"{source}: 'labels' must map values to names.")
    out: dict[int, str] = {}
    regions: Regions = {}
    for k, v in raw.items():
        value, name = (v, k) if not str(k).lstrip("-").isdigit() else (k, v)
        values = value if isinstance(value, list) else [value]
        try:
            ints = tuple(int(x) for x in values)
        except (TypeError, ValueError):
            raise PlanError(f"{source}: label {k!r}: {v!r} is not an integer value or a "
                            "list of them (a region).") from None
        if not ints or any(float(x) != i for x, i in zip(values, ints, strict=True)):
            raise PlanError(f"{source}: label {k!r}: {v!r} is not an integer value or a "
                            "list of them (a region).")
        if ints != (0,):
            regions[str(name)] = ints
        if not isinstance(value, list):
            out[ints[0]] = str(name)
    if not any(isinstance(v, list) for v in raw.values()):
        return dict(sorted(out.items())), None
    for value in {i for r in regions.values() for i in r} - set(out):
        out[value] = f"label_{value}"
    out.setdefault(0, "background")
    return dict(sorted(out.items())), regions


def _modalities(raw: Any) -> list[str]:
    if not isinstance(raw, dict):
        return []
    return [str(raw[k]) for k in sorted(raw, key=lambda k: int(k) if str(k).isdigit() else 0)]


def _datalist(path: str, data: dict[str, Any]) -> Dataset:
    training = _cases(data, "training", path, labelled=True)
    if not training:
        raise PlanError(f"{path} has no 'training' cases: list them as "
                        '"training": [{"image": ..., "label": ...}].')
    testing_key = "testing" if "testing" in data else "test"
    return Dataset(path, os.path.dirname(os.path.abspath(path)), "datalist", training,
                   _cases(data, "validation", path, labelled=True),
                   _cases(data, testing_key, path, labelled=False),
                   _modalities(data.get("modality")), *_label_names(data.get("labels"), path))


def _nnunet_v2(root: str, data: dict[str, Any]) -> Dataset:
    """Cases from ``labelsTr/<case><ending>``, each with its channel files
    ``imagesTr/<case>_0000<ending>`` ... one per ``channel_names`` entry; test cases from
    ``imagesTs/<case>_0000<ending>``. Cases missing a channel file are listed together."""
    source = os.path.join(root, "dataset.json")
    ending = str(data.get("file_ending", ".nii.gz"))
    modalities = _modalities(data.get("channel_names"))
    channels = max(1, len(modalities))

    def image(folder: str, name: str) -> str | tuple[str, ...]:
        files = tuple(os.path.join(folder, f"{name}_{c:04d}{ending}") for c in range(channels))
        return files[0] if channels == 1 else files

    training = []
    for label in sorted(glob.glob(os.path.join(root, "labelsTr", f"*{ending}"))):
        name = os.path.basename(label)[: -len(ending)]
        training.append(Case(name, image("imagesTr", name),
                             os.path.join("labelsTr", f"{name}{ending}")))
    if not training:
        raise PlanError(f"{root}: no labelsTr/*{ending} files: an nnU-Net v2 dataset has "
                        f"imagesTr/<case>_0000{ending} and labelsTr/<case>{ending}.")
    testing = []
    for first in sorted(glob.glob(os.path.join(root, "imagesTs", f"*_0000{ending}"))):
        name = os.path.basename(first)[: -len(ending) - 5]
        testing.append(Case(name, image("imagesTs", name)))
    _check_channel_files(root, source, [*training, *testing], modalities, ending)
    labels, regions = _label_names(data.get("labels"), source)
    order = data.get("regions_class_order")
    painted = tuple(order) if regions and isinstance(order, list) and len(order) == len(
        regions) and all(isinstance(v, int) and not isinstance(v, bool) for v in order) \
        else None
    return Dataset(source, root, "nnunet-v2", training, [], testing, modalities, labels,
                   regions, painted)


def _check_channel_files(root: str, source: str, cases: list[Case], modalities: list[str],
                         ending: str) -> None:
    """Raise :class:`PlanError` listing the cases whose channel files are not all there."""
    missing = []
    for case in cases:
        absent = [f for f in case.images if not os.path.isfile(os.path.join(root, f))]
        if absent:
            missing.append(f"{case.name} ({', '.join(absent)})")
    if not missing:
        return
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    files = f"<case>_0000{ending}"
    if len(modalities) > 1:
        files += f" to <case>_{len(modalities) - 1:04d}{ending}, one per channel_names " \
                 f"entry ({', '.join(f'{i}: {m}' for i, m in enumerate(modalities))})"
    raise PlanError(f"{source}: 1 dataset problem, nothing written:\n  - missing image files: "
                    f"{len(missing)} case(s): {shown}; each case needs {files} in imagesTr/ "
                    "(test cases in imagesTs/)")
