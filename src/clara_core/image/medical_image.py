"""``MedicalImage``: a NumPy array that knows its axis layout and where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from clara_core.image.shape_format import ShapeFormat


class MedicalImage:
    """Image data plus its :class:`ShapeFormat` and properties (file name, affine, ...).

    >>> img = MedicalImage(np.zeros((4, 5, 6), np.float32), "DHW")
    >>> img.set_property("filename", "a.nii.gz")
    >>> out = img.new_image(img.get_data()[None], ShapeFormat.CDHW)
    >>> out.get_shape_format(), out.get_property("filename"), out.get_data().shape
    (ShapeFormat('CDHW'), 'a.nii.gz', (1, 4, 5, 6))
    >>> MedicalImage(np.zeros((4, 5)), "DHW")
    Traceback (most recent call last):
    ...
    ValueError: MedicalImage: data of shape (4, 5) has 2 axes but shape format DHW has 3.

    ``data`` None makes an image whose voxels are computed on first use: a subclass
    (the lazy spatial transforms' image) overrides :meth:`_compute_data` and
    :meth:`spatial_shape`, which then answer without computing them.

    >>> img.spatial_shape()
    (4, 5, 6)
    """

    __slots__ = ("_data", "_shape_format", "_properties")

    def __init__(
        self,
        data: np.ndarray | None,
        shape_format: ShapeFormat | str,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        fmt = ShapeFormat(shape_format)
        array = None if data is None else np.asarray(data)
        if array is not None and array.ndim != fmt.get_number_of_dims():
            raise ValueError(
                f"MedicalImage: data of shape {array.shape} has {array.ndim} axes "
                f"but shape format {fmt} has {fmt.get_number_of_dims()}."
            )
        if array is None and type(self)._compute_data is MedicalImage._compute_data:
            raise TypeError("MedicalImage: data is None; give the image's array (only a "
                            "subclass that computes its voxels may leave it out).")
        self._data = array
        self._shape_format = fmt
        self._properties: dict[str, Any] = dict(properties or {})

    def get_data(self) -> np.ndarray:
        if self._data is None:
            self._data = self._compute_data()
        return self._data

    def _compute_data(self) -> np.ndarray:
        """The voxels of an image made without them (``data`` None); subclasses override."""
        raise NotImplementedError

    def spatial_shape(self) -> tuple[int, ...]:
        """The sizes of the spatial axes (D, H, W), in the order the array has them."""
        shape = self.get_data().shape
        return tuple(int(shape[a]) for a in self._shape_format.get_spatial_axes())

    def get_shape_format(self) -> ShapeFormat:
        return self._shape_format

    def get_property(self, key: str, default: Any = None) -> Any:
        return self._properties.get(key, default)

    def set_property(self, key: str, value: Any) -> None:
        self._properties[key] = value

    def get_properties(self) -> dict[str, Any]:
        """A copy of all properties."""
        return dict(self._properties)

    def new_image(self, data: np.ndarray, shape_format: ShapeFormat | str) -> MedicalImage:
        """A new image with ``data`` that carries over this image's properties (a new dict
        of the same values: transforms replace property values, never change them in
        place, so the per-crop cost of deep copies is not needed)."""
        return MedicalImage(data, shape_format, self._properties)

    def __repr__(self) -> str:
        return (
            f"MedicalImage(shape={self.get_data().shape}, dtype={self.get_data().dtype}, "
            f"format={self._shape_format})"
        )
