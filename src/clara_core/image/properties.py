"""``ImageProperty``: the names of the properties a loader records on an image."""

from __future__ import annotations

from typing import ClassVar


class ImageProperty:
    """Property keys of :class:`~clara_core.MedicalImage`, as the seed spells them.

    >>> ImageProperty.FILENAME, ImageProperty.AFFINE
    ('filename', 'affine')
    """

    ORIGINAL_SHAPE: ClassVar[str] = "original_shape"
    FILENAME: ClassVar[str] = "filename"
    AFFINE: ClassVar[str] = "affine"
    ORIGINAL_AFFINE: ClassVar[str] = "original_affine"
    SPACING: ClassVar[str] = "spacing"
    ORIGIN: ClassVar[str] = "origin"
    DIRECTION: ClassVar[str] = "direction"
    AS_CANONICAL: ClassVar[str] = "as_canonical"
    FILE_FORMAT: ClassVar[str] = "file_format"
    DATA_FORMAT: ClassVar[str] = "data_format"
    #: the spatial axis (0, 1 or 2) of a one-slice volume read as a 2D image; writers
    #: put it back so results have the input's shape
    SQUEEZED_AXIS: ClassVar[str] = "squeezed_axis"
