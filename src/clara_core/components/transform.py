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

    @classmethod
    def for_field(cls: type[_T], field: str, dtype: str | None = None) -> _T:
        """This loader reading ``field`` as ``dtype`` (None: its default), which is how
        the engine builds a loader it picked by format (``clara infer``). The default
        calls ``cls(fields=field, dtype=dtype)``; a loader whose constructor differs
        (or needs more, like an array layout) overrides it."""
        if dtype is None:
            return cls(fields=field)
        return cls(fields=field, dtype=dtype)

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


class MultiFieldTransformer(Transformer):
    """A transform applied to each of ``fields`` (one name or a list of names).

    >>> MultiFieldTransformer("image").fields
    ['image']
    >>> MultiFieldTransformer(["image", "label"]).fields
    ['image', 'label']
    >>> MultiFieldTransformer([])
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `fields` of MultiFieldTransformer: expected a field name or a non-empty list of field names, received [].
    """

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
