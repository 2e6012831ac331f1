"""``WriteClassificationResult``: one CSV of every validated case's predicted class."""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from clara_core import MedicalImage, TransformContext, Writer
from clara_core.atomic import atomic_write
from clara_core.data.classification import is_multi_label


class WriteClassificationResult(Writer):
    """Collect each case's prediction in ``field`` (class probabilities, or one
    probability for a binary task) and write them, after the last case, to
    ``write_path/file_name``: a row per case with the image file, the predicted class
    and the probabilities (the SDK's summary writer, written once by ``finalize``).
    For multi-label scores (one sigmoid per label) the prediction is the multi-hot of
    the labels above 0.5, as the datalist writes labels (``0 1 1``).

    >>> import tempfile
    >>> w = WriteClassificationResult(write_path=tempfile.mkdtemp())
    >>> w.write(TransformContext({"model": np.array([0.2, 0.8]), "image": "a.nii.gz"}))
    []
    >>> path, = w.finalize(); print(open(path).read().strip())
    image,prediction,p0,p1
    a.nii.gz,1,0.2,0.8
    >>> w.write(TransformContext({"model": np.array([0.9, 0.7, 0.1]), "image": "b.png"}))
    []
    >>> path, = w.finalize(); print(open(path).read().strip())
    image,prediction,p0,p1,p2
    b.png,1 1 0,0.9,0.7,0.1
    """

    output_args = ("write_path",)
    file_suffixes = (".csv",)

    def __init__(self, field: str = "model", write_path: str = "eval",
                 file_name: str = "classification_result.csv",
                 image_field: str = "image") -> None:
        self.field, self.write_path, self.file_name = field, write_path, file_name
        self.image_field = image_field
        self._rows: list[list[Any]] = []

    def write(self, transform_ctx: TransformContext) -> list[str]:
        value = transform_ctx[self.field]
        scores = np.asarray(value.get_data() if isinstance(value, MedicalImage) else value,
                            dtype=np.float64).reshape(-1)
        predicted: Any
        if is_multi_label(scores):  # every label above 0.5, as the datalist's multi-hot
            predicted = " ".join(str(int(p > 0.5)) for p in scores)
        else:
            predicted = int(scores.argmax()) if scores.size > 1 else int(scores[0] > 0.5)
        image = transform_ctx.get(self.image_field)
        name = image.get_property("filename", "case") if isinstance(image, MedicalImage) \
            else image
        self._rows.append([os.path.basename(str(name)), predicted,
                           *(round(float(s), 6) for s in scores)])
        return []

    @classmethod
    def for_field(cls, field: str, write_path: str, dtype: str | None = None,
                  name_suffix: str | None = None) -> WriteClassificationResult:
        """One CSV of every case's ``field`` under ``write_path``: probabilities are
        written as they are and the file has one name, so ``dtype`` and ``name_suffix``
        do not apply."""
        return cls(field=field, write_path=write_path)

    def finalize(self) -> list[str]:
        if not self._rows:
            return []
        width = max(len(r) for r in self._rows) - 2
        header = ["image", "prediction", *(f"p{c}" for c in range(width))]
        rows, self._rows = self._rows, []

        def save(tmp: str) -> None:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                out = csv.writer(f, lineterminator="\n")
                out.writerow(header)
                out.writerows(rows)

        path = os.path.join(self.write_path, self.file_name)
        atomic_write(path, save)
        return [path]


__all__ = ["WriteClassificationResult"]
