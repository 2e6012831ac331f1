"""The end-of-run picture: loss and validation curves, and one validation slice.

``write_report_png`` draws, with matplotlib's file-only Agg backend, the training
loss per epoch, every validation metric per validation, and the slice of one
validation case that holds the most foreground: the image with the reference
labels over it, and the image with the prediction over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class SliceExample:
    """One validation case: image ``(C, *spatial)``, label and prediction ``(*spatial)``."""

    name: str
    image: np.ndarray
    label: np.ndarray | None
    prediction: np.ndarray


def best_slice(example: SliceExample) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, int]:
    """The 2D slice (last spatial axis) with the most foreground, and its index.

    >>> img = np.zeros((1, 4, 4, 3)); lab = np.zeros((4, 4, 3)); lab[1, 1, 2] = 1
    >>> best_slice(SliceExample("c", img, lab, lab))[3]
    2
    """
    image = example.image[0]
    mask = example.label if example.label is not None else example.prediction
    if image.ndim == 2:
        return image, example.label, example.prediction, 0
    counts = (mask > 0).reshape(-1, mask.shape[-1]).sum(axis=0)
    z = int(np.argmax(counts))
    label = None if example.label is None else example.label[..., z]
    return image[..., z], label, example.prediction[..., z], z


def write_report_png(path: str, records: Sequence[dict[str, Any]],
                     example: SliceExample | None, key_metric: str | None = None) -> str:
    """Draw the curves of ``records`` (metrics.jsonl lines) and ``example`` to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 2 if example is None else 4
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 4), squeeze=False)
    ax_loss, ax_metric = axes[0][0], axes[0][1]
    epochs = [r["epoch"] for r in records]
    ax_loss.plot(epochs, [r["loss"] for r in records], color="tab:red")
    ax_loss.set(title="training loss", xlabel="epoch")
    ax_loss.grid(alpha=0.3)
    skip = {"epoch", "loss", "lr", "steps", "seconds"}
    names = sorted({k for r in records for k, v in r.items()
                    if k not in skip and isinstance(v, (int, float))})
    for name in names:
        points = [(r["epoch"], r[name]) for r in records if name in r]
        xs, ys = zip(*points, strict=True)
        ax_metric.plot(xs, ys, marker="o", label=name,
                       linewidth=2.5 if name == key_metric else 1.2)
    ax_metric.set(title="metrics", xlabel="epoch")
    ax_metric.grid(alpha=0.3)
    if names:
        ax_metric.legend(fontsize=8)
    if example is not None:
        image, label, pred, z = best_slice(example)
        for ax, mask, title in ((axes[0][2], label, "reference"),
                                (axes[0][3], pred, "prediction")):
            ax.imshow(image.T, cmap="gray", origin="lower")
            if mask is not None:
                ax.imshow(np.ma.masked_equal(mask.T, 0), cmap="tab10", vmin=0, vmax=9,
                          alpha=0.45, origin="lower", interpolation="nearest")
            ax.set(title=f"{example.name} slice {z}: {title}")
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


__all__ = ["SliceExample", "best_slice", "write_report_png"]
