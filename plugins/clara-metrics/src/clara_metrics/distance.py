"""Surface distances in millimetres: ``ComputeHausdorffDistance``, ``ComputeSurfaceDistance``.

A mask's surface is its voxels with a face-neighbour outside the mask (the mask
XOR its erosion by the cross-shaped element, the image border counting as
outside), as in MONAI. Distances from each surface voxel of one mask to the
nearest surface voxel of the other are exact Euclidean distances in physical
units (voxel spacing from the image), computed with SimpleITK's multi-threaded
Maurer distance transform on the two masks' joint bounding box only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clara_metrics.per_class import PerClassMetric


def surface(mask: np.ndarray) -> np.ndarray:
    """Voxels of ``mask`` with a face-neighbour outside it (or on the array border).

    >>> m = np.zeros((5, 5), bool); m[1:4, 1:4] = True
    >>> int(surface(m).sum())  # the ring of 8 around the centre
    8
    """
    padded = np.pad(mask, 1)
    inner = padded.copy()
    for axis in range(mask.ndim):
        for shift in (1, -1):
            inner &= np.roll(padded, shift, axis=axis)
    return (padded & ~inner)[tuple(slice(1, -1) for _ in range(mask.ndim))]


def _distance_to(edges: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """Euclidean distance (physical units) of every voxel to the nearest ``edges`` voxel."""
    import SimpleITK as sitk

    image = sitk.GetImageFromArray(edges.astype(np.uint8))
    image.SetSpacing([float(s) for s in reversed(spacing)])  # SimpleITK is x-first
    dist = sitk.SignedMaurerDistanceMap(image, insideIsPositive=False, squaredDistance=False,
                                        useImageSpacing=True)
    return np.abs(sitk.GetArrayViewFromImage(dist))


def directed_distances(pred: np.ndarray, label: np.ndarray,
                       spacing: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Distances pred-surface -> label-surface and label -> pred; ``None`` if a mask is empty.

    >>> a = np.zeros((8, 8), bool); a[2:4, 2:4] = True
    >>> b = np.zeros((8, 8), bool); b[2:4, 5:7] = True
    >>> d_ab, d_ba = directed_distances(a, b, [1.0, 2.0])
    >>> float(d_ab.max()), float(d_ba.max())  # 3 columns apart, columns 2 mm wide
    (6.0, 6.0)
    """
    if not pred.any() or not label.any():
        return None
    box = np.argwhere(pred | label)
    lo, hi = box.min(axis=0), box.max(axis=0) + 1
    crop = tuple(slice(a, b) for a, b in zip(lo, hi, strict=True))
    # the bounding box keeps every surface voxel; pad so the crop edge counts as outside
    p, t = np.pad(pred[crop], 1), np.pad(label[crop], 1)
    sp, st = surface(p), surface(t)
    return _distance_to(st, spacing)[sp], _distance_to(sp, spacing)[st]


class ComputeHausdorffDistance(PerClassMetric):
    """Mean over cases of the (percentile) Hausdorff distance per class, in mm.

    ``percentile=95`` (default) gives HD95: the larger of the two directed 95th
    percentiles; ``percentile=None`` the maximum. A class present in only one of
    prediction and label scores NaN (no surface to measure to); see
    :mod:`clara_metrics.per_class` for averaging. Lower is better. Equals MONAI's
    ``HausdorffDistanceMetric`` with the image spacing.
    """

    higher_is_better = False

    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 percentile: float | None = 95.0, remove_bg: bool = True,
                 num_classes: int | None = None, invalid_value: float = float("nan"),
                 report_path: str | None = None, is_key_metric: bool = False,
                 do_print: bool = True, do_summary: bool = True) -> None:
        PerClassMetric.__init__(self, name, field=field, label_field=label_field,
                                remove_bg=remove_bg, num_classes=num_classes,
                                invalid_value=invalid_value, report_path=report_path,
                                is_key_metric=is_key_metric, do_print=do_print,
                                do_summary=do_summary)
        from clara_core.arguments import check_argument

        check_argument(type(self).__name__, "percentile", percentile,
                       percentile is None or 0 <= percentile <= 100,
                       "null (maximum) or a number in [0, 100]")
        self.percentile = percentile

    def score(self, pred: np.ndarray, label: np.ndarray, spacing: Sequence[float]) -> float:
        d = directed_distances(pred, label, spacing)
        if d is None:
            return float("nan")
        if self.percentile is None:
            return float(max(d[0].max(), d[1].max()))
        return float(max(np.percentile(d[0], self.percentile),
                         np.percentile(d[1], self.percentile)))


class ComputeSurfaceDistance(PerClassMetric):
    """Mean over cases of the average symmetric surface distance per class, in mm.

    The mean of all distances from either surface to the other (MONAI's
    ``SurfaceDistanceMetric(symmetric=True)``); ``symmetric=False`` gives the
    mean distance from the prediction's surface to the label's. Empty masks as in
    :class:`ComputeHausdorffDistance`. Lower is better.
    """

    higher_is_better = False

    def __init__(self, name: str, field: str = "model", label_field: str = "label",
                 symmetric: bool = True, remove_bg: bool = True,
                 num_classes: int | None = None, invalid_value: float = float("nan"),
                 report_path: str | None = None, is_key_metric: bool = False,
                 do_print: bool = True, do_summary: bool = True) -> None:
        PerClassMetric.__init__(self, name, field=field, label_field=label_field,
                                remove_bg=remove_bg, num_classes=num_classes,
                                invalid_value=invalid_value, report_path=report_path,
                                is_key_metric=is_key_metric, do_print=do_print,
                                do_summary=do_summary)
        self.symmetric = symmetric

    def score(self, pred: np.ndarray, label: np.ndarray, spacing: Sequence[float]) -> float:
        d = directed_distances(pred, label, spacing)
        if d is None:
            return float("nan")
        if self.symmetric:
            return float(np.concatenate(d).mean())
        return float(d[0].mean())
