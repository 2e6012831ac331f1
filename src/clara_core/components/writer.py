"""``Writer``: writes a field of each validated case to disk."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from clara_core.components.base import Component
from clara_core.image.transform_ctx import TransformContext

_W = TypeVar("_W", bound="Writer")


class Writer(Component):
    """Base of writers (e.g. NIfTI with the input's geometry).

    A writer that declares :attr:`file_suffixes` is one the engine can ask the
    registry for by format (``Registry.writer_for(".nii.gz")``: ``clara infer`` writes
    its segmentations so); the engine then builds it with :meth:`for_field` and names
    its outputs with :meth:`file_name_for`.
    """

    #: the file formats this writer writes, as file-name endings (``(".nii.gz",)``);
    #: empty for writers the engine does not pick by format
    file_suffixes: ClassVar[tuple[str, ...]] = ()

    def write(self, transform_ctx: TransformContext) -> list[str]:
        """Write this case's output; return the paths written."""
        raise NotImplementedError(f"Class {type(self).__name__} does not implement write.")

    def finalize(self) -> list[str]:
        """After the last case: write what covers every case (a summary file); return
        the paths written. Most writers write per case and have nothing left."""
        return []

    def file_name_for(self, case_name: str) -> str | None:
        """The name of the file :meth:`write` writes for the case whose input is named
        ``case_name`` (without its extension), or None when it writes none per case."""
        return None

    @classmethod
    def for_field(cls: type[_W], field: str, write_path: str, dtype: str | None = None,
                  name_suffix: str | None = None) -> _W:
        """This writer writing ``field`` under ``write_path`` as ``dtype`` (None: as it
        is), with ``name_suffix`` after the case name in file names (None: the writer's
        own). The default calls ``cls(field=..., write_path=..., dtype=..., suffix=...)``
        (the SDK's writer arguments); a writer whose constructor differs overrides it."""
        return cls(field=field, write_path=write_path, dtype=dtype, suffix=name_suffix)
