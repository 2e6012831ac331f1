"""The dataset fingerprint: every training case read once, in parallel, through the
loaders the registry picks by file format (the ones ``clara train`` will use).

Per case: shape, spacing, orientation, channels, class voxel counts and a sample of
foreground intensities; per channel over the dataset: the foreground's percentiles
0.5 and 99.5, mean and standard deviation (nnU-Net's CT statistics). Dataset problems
(missing or unreadable files, labels on another grid, unknown label values, mixed channels or
dimensionality) are collected per case and raised together, before anything is
written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from clara_core.plan.dataset import Case, Dataset, PlanError

#: foreground voxels sampled per case for the intensity statistics (nnU-Net: 10,000)
SAMPLES_PER_CASE = 10_000
#: labels are read as float32, so values that are not class numbers (soft or
#: interpolated labels) are seen, not truncated by the cast; then rounded to int32
LABEL_DTYPE = "float32"
#: how far a label value may be from an integer and still be that class number
LABEL_TOLERANCE = 1e-3
#: a one-channel dataset without channel names whose median case minimum is at most
#: this is CT (air is -1000 Hounsfield units)
CT_AIR = -500.0


@dataclass
class CaseFingerprint:
    """What one case looks like; ``error`` set when it could not be read."""

    name: str
    shape: list[int] = field(default_factory=list)
    spacing: list[float] = field(default_factory=list)
    channels: int = 0
    orientation: str = ""
    label_shape: list[int] = field(default_factory=list)
    label_on_grid: bool = True
    class_voxels: dict[int, int] = field(default_factory=dict)
    #: a few label values that are not class numbers (soft or interpolated labels)
    fractional_labels: list[float] = field(default_factory=list)
    nonzero_fraction: float = 1.0
    intensity_range: list[float] = field(default_factory=list)
    error: str = ""
    samples: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def dims(self) -> int:
        return len(self.shape)

    def record(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("samples")
        out["class_voxels"] = {str(k): v for k, v in self.class_voxels.items()}
        return out


@dataclass
class Fingerprint:
    """The dataset's fingerprint: its cases and per-channel foreground statistics."""

    cases: list[CaseFingerprint]
    modalities: list[str]
    labels: dict[int, str]
    intensity: list[dict[str, float]]
    #: region-based labels (see :class:`~clara_core.plan.dataset.Dataset`), else None
    regions: dict[str, tuple[int, ...]] | None = None
    #: the label value each region paints (nnU-Net v2's ``regions_class_order``)
    regions_class_order: tuple[int, ...] | None = None

    @property
    def dims(self) -> int:
        return self.cases[0].dims

    @property
    def channels(self) -> int:
        return self.cases[0].channels

    def spacings(self) -> np.ndarray:
        return np.array([c.spacing for c in self.cases], dtype=float)

    def shapes(self) -> np.ndarray:
        return np.array([c.shape for c in self.cases], dtype=float)

    def class_voxels(self) -> dict[int, int]:
        total: dict[int, int] = {}
        for case in self.cases:
            for k, v in case.class_voxels.items():
                total[k] = total.get(k, 0) + v
        return dict(sorted(total.items()))

    def record(self) -> dict[str, Any]:
        return {"modalities": self.modalities, "labels": {str(k): v for k, v in self.labels.items()},
                "cases": [c.record() for c in self.cases],
                "class_voxels": {str(k): v for k, v in self.class_voxels().items()},
                "foreground_intensity": self.intensity,
                **({"regions": {k: list(v) for k, v in self.regions.items()}}
                   if self.regions else {})}


def read_case(dataset: Dataset, case: Case, registry: Any, seed: int = 0) -> CaseFingerprint:
    """One case's fingerprint; a file that cannot be read is recorded in ``error``."""
    out = CaseFingerprint(case.name)
    absent = [p for p in (*case.images, *([case.label] if case.label else []))
              if not os.path.exists(dataset.path(p))]
    if absent:
        out.error = f"not found: {', '.join(dataset.path(p) for p in absent)}"
        return out
    try:
        image = load(registry, [dataset.path(f) for f in case.images], "image")
        label = (load(registry, dataset.path(case.label), "label", LABEL_DTYPE)
                 if case.label else None)
    except Exception as exc:  # noqa: BLE001 - any loader failure is a dataset problem
        out.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        return out
    data, fmt = image.get_data(), str(image.get_shape_format())
    channels_last = fmt.endswith("C")
    out.shape = [int(s) for s in (data.shape[:-1] if channels_last else data.shape)]
    out.channels = int(data.shape[-1]) if channels_last else 1
    spacing = image.get_property("spacing") or (1.0,) * out.dims
    out.spacing = [float(f"{float(s):.6g}") for s in spacing][: out.dims]  # float32 noise off
    out.orientation = _orientation(image.get_property("affine"), out.dims)
    pixels = data.reshape(-1, out.channels)
    out.nonzero_fraction = float(np.count_nonzero(pixels[:, 0])) / max(1, pixels.shape[0])
    out.intensity_range = [float(pixels[:, 0].min()), float(pixels[:, 0].max())]
    if label is not None:
        _read_label(out, image, label, pixels, seed)
    return out


def load(registry: Any, path: str | Sequence[str], field_name: str,
         dtype: str | None = None) -> Any:
    """``path`` read as ``dtype`` (None: float32) by the loader the registry has for its
    format; several paths (one file per channel) as one image of their channels."""
    from clara_core.image.transform_ctx import TransformContext

    files = [path] if isinstance(path, str) else list(path)
    cls = registry.loader_for(files[0], folder=os.path.isdir(files[0]))
    loader = cls.for_field(field_name, dtype)
    value = files[0] if len(files) == 1 else files
    return loader.transform(TransformContext({field_name: value})).get_image(field_name)


def _orientation(affine: Any, dims: int) -> str:
    if affine is None or dims != 3:
        return ""
    from nibabel.orientations import aff2axcodes

    codes = aff2axcodes(np.asarray(affine))  # type: ignore[no-untyped-call]
    return "".join(str(c) for c in codes)


def _read_label(out: CaseFingerprint, image: Any, label: Any, pixels: np.ndarray,
                seed: int) -> None:
    values = label.get_data()
    if values.ndim == out.dims + 1 and values.shape[-1] == 1:
        values = values[..., 0]
    out.label_shape = [int(s) for s in values.shape]
    same_affine = _same_affine(image.get_property("affine"), label.get_property("affine"))
    out.label_on_grid = out.label_shape == out.shape and same_affine
    if not out.label_on_grid:
        return
    rounded = values if values.dtype.kind in "iu" else np.rint(values)
    if rounded is not values:
        off = np.unique(values[np.abs(values - rounded) > LABEL_TOLERANCE])
        out.fractional_labels = [round(float(v), 3) for v in off[:3]]
    flat = (values if rounded is values else rounded.astype(np.int32)).ravel()
    if flat.min() < 0:
        out.class_voxels = {int(v): int(n) for v, n in zip(*np.unique(flat, return_counts=True), strict=True)}
        return
    counts = np.bincount(flat)
    out.class_voxels = {int(v): int(n) for v, n in enumerate(counts) if n}
    foreground = np.flatnonzero(flat)
    if foreground.size > SAMPLES_PER_CASE:
        rng = np.random.default_rng(seed)
        foreground = rng.choice(foreground, SAMPLES_PER_CASE, replace=False)
    out.samples = [pixels[foreground, c].astype(np.float64) for c in range(out.channels)]


def _same_affine(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return True
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=1e-3, rtol=1e-4))


def channel_statistics(cases: Sequence[CaseFingerprint]) -> list[dict[str, float]]:
    """Per channel: percentiles 0.5 and 99.5, mean and std of the sampled foreground."""
    channels = cases[0].channels if cases else 0
    out = []
    for c in range(channels):
        pooled = [case.samples[c] for case in cases if len(case.samples) > c]
        values = np.concatenate(pooled) if pooled else np.zeros(1)
        if values.size == 0:
            values = np.zeros(1)
        lo, hi = np.percentile(values, [0.5, 99.5])
        out.append({"percentile_00_5": float(lo), "percentile_99_5": float(hi),
                    "mean": float(values.mean()), "std": float(values.std()),
                    "min": float(values.min()), "max": float(values.max())})
    return out


def fingerprint(dataset: Dataset, registry: Any = None, workers: int | None = None,
                progress: bool | None = None) -> Fingerprint:
    """Read every training (and validation) case in parallel; raise :class:`PlanError`
    listing every dataset problem."""
    if registry is None:
        from clara_core.registry.registry import Registry

        registry = Registry()
    cases = [*dataset.training, *dataset.validation]
    workers = workers or min(8, os.cpu_count() or 1)
    with _bar(len(cases), progress) as advance, ThreadPoolExecutor(workers) as pool:
        results = []
        for result in pool.map(lambda ic: read_case(dataset, ic[1], registry, ic[0]),
                               enumerate(cases)):
            results.append(result)
            advance()
    labels = dataset.labels
    if labels is None:
        found = sorted({k for c in results for k in c.class_voxels})
        labels = {k: ("background" if k == 0 else f"label_{k}") for k in found}
    check(results, cases, dataset, labels)
    return Fingerprint(results, _modalities(dataset, results), labels,
                       channel_statistics(results), dataset.regions,
                       dataset.regions_class_order)


def _modalities(dataset: Dataset, cases: Sequence[CaseFingerprint]) -> list[str]:
    channels = cases[0].channels
    if len(dataset.modalities) == channels:
        return dataset.modalities
    if cases[0].dims == 2 and channels in (3, 4):
        return ["RGB"] * channels
    lows = [c.intensity_range[0] for c in cases if c.intensity_range]
    if channels == 1 and lows and float(np.median(lows)) <= CT_AIR:
        return ["CT"]  # air in Hounsfield units
    return ["unknown"] * channels


def check(results: Sequence[CaseFingerprint], cases: Sequence[Case], dataset: Dataset,
          labels: dict[int, str]) -> None:
    """Raise :class:`PlanError` naming each problem and its cases."""
    problems: list[str] = []
    by_case = list(zip(results, cases, strict=True))
    unreadable = [f"{c.name} ({r.error})" for r, c in by_case if r.error]
    grid = ", and a case's channel files must share one grid" \
        if any(len(c.images) > 1 for c in cases) else ""
    _add(problems, "missing or unreadable files", unreadable,
         f"fix the paths or the files, or remove these cases (each must be a file format "
         f"an installed loader reads{grid})")
    readable = [r for r in results if not r.error]
    off_grid = [f"{r.name} (image {r.shape}, label {r.label_shape})" for r in readable
                if not r.label_on_grid]
    _add(problems, "labels on another grid than their image", off_grid,
         "resample each label onto its image's grid (same shape and affine)")
    soft = [f"{r.name} ({', '.join(f'{v:g}' for v in r.fractional_labels)}, ...)"
            for r in readable if r.fractional_labels]
    _add(problems, "label values that are not class numbers (soft or interpolated labels)",
         soft, "labels hold one class number per voxel: threshold or round them, or "
               "resample labels with nearest-neighbour interpolation")
    unknown = sorted({k for r in readable for k in r.class_voxels if k not in labels})
    if unknown:
        names = [r.name for r in readable if set(r.class_voxels) - set(labels)]
        _add(problems, f"label values {unknown} absent from 'labels' {sorted(labels)}", names,
             f"add them to 'labels' in {dataset.source} or correct the label files")
    for what, key in (("channel counts", lambda r: r.channels),
                      ("dimensionality (2D and 3D images)", lambda r: r.dims)):
        _mixed(problems, what, readable, key)
    if problems:
        raise PlanError(f"{dataset.source}: {len(problems)} dataset problem(s), nothing "
                        "written:\n" + "\n".join(f"  - {p}" for p in problems))


def _add(problems: list[str], what: str, names: Sequence[str], fix: str) -> None:
    if names:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        problems.append(f"{what}: {len(names)} case(s): {shown}; {fix}")


def _mixed(problems: list[str], what: str, cases: Sequence[CaseFingerprint],
           key: Callable[[CaseFingerprint], int]) -> None:
    values = sorted({key(r) for r in cases})
    if len(values) > 1:
        common = max(values, key=lambda v: sum(key(r) == v for r in cases))
        odd = [f"{r.name} ({key(r)})" for r in cases if key(r) != common]
        _add(problems, f"mixed {what}: most cases have {common}", odd,
             "every case needs the same layout")


@contextmanager
def _bar(total: int, enabled: bool | None) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr when it is a terminal; ``advance()`` per case."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield lambda: None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("fingerprinting", total=total)
        yield lambda: bar.advance(task)
