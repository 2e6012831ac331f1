"""``ShapeFormat``: the axis layout of an image array (the seed's shape formats)."""

from __future__ import annotations

from typing import ClassVar


class ShapeFormat:
    """Names the meaning of each axis of an image array.

    ``D``, ``H`` and ``W`` are spatial axes, ``C`` the channel axis and ``N`` the
    batch axis. The class attributes are the formats the seed lists; an instance
    wraps one of them.

    >>> fmt = ShapeFormat("CDHW")
    >>> fmt.get_number_of_dims(), fmt.get_number_of_spatial_dims(), fmt.get_channel_axis()
    (4, 3, 0)
    >>> ShapeFormat(ShapeFormat.DHWC).is_channels_last()
    True
    >>> ShapeFormat("DHW") == "DHW"
    True
    >>> ShapeFormat("XYZ")
    Traceback (most recent call last):
    ...
    ValueError: Invalid shape format 'XYZ': expected one of HW, CHW, HWC, DHW, CDHW, DHWC, NHW, NCHW, NHWC, NDHW, NCDHW, NDHWC.
    """

    HW: ClassVar[str] = "HW"
    CHW: ClassVar[str] = "CHW"
    HWC: ClassVar[str] = "HWC"
    DHW: ClassVar[str] = "DHW"
    CDHW: ClassVar[str] = "CDHW"
    DHWC: ClassVar[str] = "DHWC"
    NHW: ClassVar[str] = "NHW"
    NCHW: ClassVar[str] = "NCHW"
    NHWC: ClassVar[str] = "NHWC"
    NDHW: ClassVar[str] = "NDHW"
    NCDHW: ClassVar[str] = "NCDHW"
    NDHWC: ClassVar[str] = "NDHWC"

    ALL: ClassVar[tuple[str, ...]] = (
        "HW", "CHW", "HWC", "DHW", "CDHW", "DHWC",
        "NHW", "NCHW", "NHWC", "NDHW", "NCDHW", "NDHWC",
    )  # fmt: skip

    __slots__ = ("_fmt",)

    def __init__(self, fmt: str | ShapeFormat) -> None:
        value = fmt._fmt if isinstance(fmt, ShapeFormat) else fmt
        if value not in self.ALL:
            raise ValueError(
                f"Invalid shape format {value!r}: expected one of {', '.join(self.ALL)}."
            )
        self._fmt: str = value

    def __str__(self) -> str:
        return self._fmt

    def __repr__(self) -> str:
        return f"ShapeFormat({self._fmt!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ShapeFormat):
            return self._fmt == other._fmt
        if isinstance(other, str):
            return self._fmt == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fmt)

    def get_number_of_dims(self) -> int:
        """Number of array axes, batch and channel included."""
        return len(self._fmt)

    def get_number_of_spatial_dims(self) -> int:
        """2 for HW layouts, 3 for DHW layouts."""
        return sum(axis in "DHW" for axis in self._fmt)

    def is_batched(self) -> bool:
        return self._fmt.startswith("N")

    def has_channels(self) -> bool:
        return "C" in self._fmt

    def is_channels_first(self) -> bool:
        """True when a channel axis comes before the spatial axes."""
        return self.has_channels() and self._fmt.index("C") < self._fmt.index("H")

    def is_channels_last(self) -> bool:
        return self.has_channels() and self._fmt.endswith("C")

    def get_channel_axis(self) -> int | None:
        """Index of the channel axis, or None for formats without one."""
        return self._fmt.index("C") if self.has_channels() else None

    def get_spatial_axes(self) -> tuple[int, ...]:
        return tuple(i for i, axis in enumerate(self._fmt) if axis in "DHW")

    def with_channels(self, channels_first: bool = True) -> ShapeFormat:
        """The same layout with a channel axis added (or moved) first or last.

        >>> ShapeFormat("DHW").with_channels(), ShapeFormat("NCHW").with_channels(False)
        (ShapeFormat('CDHW'), ShapeFormat('NHWC'))
        """
        batch = "N" if self.is_batched() else ""
        spatial = "".join(axis for axis in self._fmt if axis in "DHW")
        return ShapeFormat(batch + ("C" + spatial if channels_first else spatial + "C"))
