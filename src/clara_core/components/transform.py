"""Transforms: ``Transformer`` and the seed's ``MultiFieldTransformer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from clara_core.components.base import Component
from clara_core.image.transform_ctx import TransformContext

_T = TypeVar("_T", bound="Transformer")


class Transformer(Component):
    """Base of transforms and data loaders: ``transform(ctx)`` returns the context.

    ``is_deterministic()`` is True by default; a transform with randomness must
    override it to return False, since deterministic prefixes of a chain are cached.
    """

    _rng: Any = None

    #: True for transforms that read files into images (the chain's loaders): ``clara
    #: infer`` replaces them by the loader that fits each input's format
    is_loader: ClassVar[bool] = False

    #: loaders: the file formats this loader reads, as file-name endings matched
    #: without regard to case (``(".nii", ".nii.gz")``). ``Registry.loader_for(path)``
    #: picks the loader declaring the longest ending of ``path``
    file_suffixes: ClassVar[tuple[str, ...]] = ()

    #: loaders: True when the loader reads a folder (a DICOM series), not a file
    reads_folders: ClassVar[bool] = False

    #: loaders: the format ``clara infer`` writes the segmentation of an input read by
    #: this loader in (``Registry.writer_for`` finds its writer): volumes as NIfTI, on
    #: their grid; 2D pictures (PNG, JPEG, TIFF) as PNG, pixel for pixel
    result_suffix: ClassVar[str] = ".nii.gz"

    #: batch transforms: True for one that merges the samples of each case into the
    #: batch (the SDK's ``MergeBatchDims``): a step then takes ``output_batch_size``
    #: cases with all their samples
    merges_case_samples: ClassVar[bool] = False

    #: the constructor arguments, kept as attributes of the same name, that name the
    #: context fields this transform reads (a name, a list of names or None); ``config
    #: check`` follows them along the chain: each must come from the datalist or an
    #: earlier transform. Empty: not declared, not checked (see :meth:`fields_read`)
    field_args: ClassVar[tuple[str, ...]] = ()

    #: the arguments (attributes) naming fields the transform adds, beside those it
    #: reads and replaces (``SplitBasedOnLabel``'s ``label_names``)
    output_field_args: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def for_field(cls: type[_T], field: str, dtype: str | None = None) -> _T:
        """This loader reading ``field`` as ``dtype`` (None: its default), which is how
        the engine builds a loader it picked by format (``clara infer``). The default
        calls ``cls(fields=field, dtype=dtype)``; a loader whose constructor differs
        (or needs more, like an array layout) overrides it."""
        if dtype is None:
            return cls(fields=field)
        return cls(fields=field, dtype=dtype)

    def fields_read(self) -> list[str] | None:
        """The fields this transform reads, from :attr:`field_args`; None when it does
        not declare them (a transform computing its names overrides this)."""
        return _named_fields(self, self.field_args) if self.field_args else None

    def fields_written(self) -> list[str] | None:
        """The fields this transform sets: those it reads (in place) and those of
        :attr:`output_field_args`. None: not known, so the fields read after it cannot
        be checked (the default of a transform that declares nothing).

        >>> class Split(Transformer):
        ...     field_args, output_field_args = ("field",), ("names",)
        ...     def __init__(self, field, names):
        ...         self.field, self.names = field, names
        >>> Split("label", ["a", "b"]).fields_written(), Transformer().fields_written()
        (['label', 'a', 'b'], None)
        """
        read = self.fields_read()
        written = _named_fields(self, self.output_field_args)
        return None if read is None or written is None else [*read, *written]

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        raise NotImplementedError(f"Class {type(self).__name__} does not implement transform.")

    def set_random_state(self, seed: int | None) -> None:
        """Seed this transform's own generator (the pipeline seeds each worker and epoch)."""
        import numpy as np

        self._rng = np.random.default_rng(seed)

    @property
    def R(self) -> Any:  # noqa: N802 - the name MONAI and the SDK's users know
        """This transform's ``numpy.random.Generator`` (unseeded until the pipeline seeds it)."""
        if self._rng is None:
            self.set_random_state(None)
        return self._rng

    def is_deterministic(self) -> bool:
        return True

    def label_values(self, classes: Any) -> Any:
        """The label values that the class numbers ``classes`` (a segmentation, a
        NumPy array) stood for before this transform renumbered them. ``clara infer``
        passes a segmentation back through the validation chain's label transforms,
        so it is written in the dataset's own values (a mask stored as 0/255 comes
        back as 0/255). The default, for a transform that does not renumber labels:
        ``classes`` unchanged."""
        return classes


_MISSING = object()


def _named_fields(transform: Transformer, args: tuple[str, ...]) -> list[str] | None:
    """The field names held by ``transform``'s attributes ``args`` (a name, a list of
    names, None for none); None when one is missing or holds something else."""
    names: list[str] = []
    for arg in args:
        value = getattr(transform, arg, _MISSING)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
            return None  # missing, or not names: not declared after all
        names += values
    return names


class MultiFieldTransformer(Transformer):
    """A transform applied to each of ``fields`` (one name or a list of names), in
    place: it reads and replaces those fields (:attr:`Transformer.field_args`).

    >>> MultiFieldTransformer("image").fields
    ['image']
    >>> MultiFieldTransformer(["image", "label"]).fields
    ['image', 'label']
    >>> MultiFieldTransformer([])
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `fields` of MultiFieldTransformer: expected a field name or a non-empty list of field names, received [].
    """

    field_args: ClassVar[tuple[str, ...]] = ("fields",)

    def __init__(self, fields: str | Sequence[str]) -> None:
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names or not all(isinstance(f, str) and f for f in names):
            raise ValueError(
                f"Invalid value for argument `fields` of {type(self).__name__}: expected a field "
                f"name or a non-empty list of field names, received {fields!r}."
            )
        self.fields: list[str] = names


class RandomTransform(Transformer):
    """Base of transforms that draw random numbers: not deterministic (never cached),
    and, for those with a ``probability`` argument, a per-case gate.

    Subclasses call :meth:`set_probability` in their constructor when they take
    ``probability`` and draw the gate with :meth:`happens`; every draw uses the
    transform's own generator :attr:`R`, which the pipeline seeds per case and epoch.

    >>> class Jitter(RandomTransform):
    ...     def __init__(self, probability: float = 0.5):
    ...         self.set_probability(probability)
    >>> Jitter(1.0).happens(), Jitter(0.0).happens(), Jitter().is_deterministic()
    (True, False, False)
    >>> Jitter(2)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `probability` of Jitter: expected a float in [0, 1], received 2.
    """

    probability: float = 1.0

    def set_probability(self, probability: float) -> None:
        from clara_core.arguments import check_probability

        check_probability(type(self).__name__, probability)
        self.probability = probability

    def happens(self) -> bool:
        """One draw of the gate: True with ``probability``."""
        return bool(self.R.random() < self.probability)

    def is_deterministic(self) -> bool:
        return False
