"""``TransformContext``: the dict of fields a transform chain passes along."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from clara_core.image.medical_image import MedicalImage


class TransformContext(MutableMapping[str, Any]):
    """Fields of one data item: raw datalist values (file names) and :class:`MedicalImage` s.

    Raw values are read with item access, images with :meth:`get_image`.

    >>> import numpy as np
    >>> ctx = TransformContext({"image": "case1.nii.gz"})
    >>> ctx["image"]
    'case1.nii.gz'
    >>> ctx.set_image("image", MedicalImage(np.ones((2, 2)), "HW"))
    >>> ctx.get_image("image").get_data().sum()
    np.float64(4.0)
    >>> ctx.get_image("label")
    Traceback (most recent call last):
    ...
    KeyError: "TransformContext has no field 'label'; fields present: image. Check the 'fields' argument of the transform and the keys of your datalist."
    """

    def __init__(self, fields: Mapping[str, Any] | None = None) -> None:
        self._fields: dict[str, Any] = dict(fields or {})

    def get_image(self, field: str) -> MedicalImage:
        value = self[field]
        if not isinstance(value, MedicalImage):
            raise TypeError(
                f"Field {field!r} holds {type(value).__name__} {value!r}, not a MedicalImage: "
                "put a loader (e.g. LoadNifti) for this field before this transform."
            )
        return value

    def set_image(self, field: str, image: MedicalImage) -> None:
        if not isinstance(image, MedicalImage):
            raise TypeError(
                f"set_image({field!r}, ...) expects a MedicalImage, got {type(image).__name__}."
            )
        self._fields[field] = image

    def get_field_names(self) -> list[str]:
        return list(self._fields)

    def copy(self) -> TransformContext:
        """A shallow copy: new dict, same images (transforms replace images, never mutate)."""
        return TransformContext(self._fields)

    def __getitem__(self, field: str) -> Any:
        try:
            return self._fields[field]
        except KeyError:
            present = ", ".join(self._fields) or "none"
            raise KeyError(
                f"TransformContext has no field {field!r}; fields present: {present}. "
                "Check the 'fields' argument of the transform and the keys of your datalist."
            ) from None

    def __setitem__(self, field: str, value: Any) -> None:
        self._fields[field] = value

    def __delitem__(self, field: str) -> None:
        del self._fields[field]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"TransformContext({self._fields!r})"
