"""``Component``: the constructor is the config.

Every component class records the arguments it was constructed with, so
``get_config()`` returns them JSON-ready and ``from_config()`` rebuilds an equal
component, even for subclasses written the seed's way (which never call the
base ``__init__``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

_C = TypeVar("_C", bound="Component")


def to_json_value(value: Any) -> Any:
    """Convert a constructor argument to its JSON form.

    NumPy scalars become numbers, dtypes and types their names, tuples lists.

    >>> import numpy as np
    >>> to_json_value({"a": (1, np.float32(2.5)), "dtype": np.float32})
    {'a': [1, 2.5], 'dtype': 'float32'}
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, type):
        return value.__name__
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()  # numpy scalar
    name = getattr(value, "name", None)
    if isinstance(name, str) and type(value).__name__.startswith("dtype"):
        return name  # numpy dtype instance
    return str(value)


class Component:
    """Base of every configurable component.

    >>> class Scale(Component):
    ...     def __init__(self, factor: float = 1.0, fields=("image",)):
    ...         self.factor = factor
    >>> Scale(2.0).get_config()
    {'factor': 2.0, 'fields': ['image']}
    >>> Scale.from_config({"factor": 3.0}).factor
    3.0
    """

    #: the constructor's arguments, recorded by ``__new__`` (empty if they did not bind)
    _clara_init_args: Mapping[str, Any] = MappingProxyType({})

    #: constructor arguments naming a file or folder the component writes to: the
    #: engine resolves them against the MMAR and, for configs under names-only, keeps
    #: them inside it
    output_args: ClassVar[tuple[str, ...]] = ()

    #: SDK arguments accepted so its configs run unchanged but without effect here,
    #: each with why: ``clara config check`` and ``clara train`` print one notice line
    #: naming the ones a config sets, so none is ignored silently. The config builder
    #: does not pass them on, so the constructor need not take them
    no_effect_args: ClassVar[Mapping[str, str]] = {}

    #: SDK arguments whose other values cannot work here: ``{name: (the value that
    #: works, why the others do not and what to use instead)}``. The config builder
    #: drops the argument when it has that value and refuses any other in one line
    refused_args: ClassVar[Mapping[str, tuple[Any, str]]] = {}

    #: SDK argument names that are this constructor's arguments under another name
    #: (``{"beta1": "beta_1"}``): a config may use either, with the same meaning
    sdk_aliases: ClassVar[Mapping[str, str]] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> Component:
        self = super().__new__(cls)
        signature = inspect.signature(cls.__init__)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            bound = None  # __init__ itself will raise the clearer error
        if bound is not None:
            bound.apply_defaults()
            recorded: dict[str, Any] = {}
            params = signature.parameters
            for name, value in list(bound.arguments.items())[1:]:
                if params[name].kind is inspect.Parameter.VAR_KEYWORD:
                    recorded.update(value)
                elif params[name].kind is not inspect.Parameter.VAR_POSITIONAL:
                    recorded[name] = value
            self._clara_init_args = recorded
        return self

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready: ``type(self)(**get_config())`` is equal."""
        return to_json_value(self._clara_init_args)  # type: ignore[no-any-return]

    def init_arg(self, name: str, default: Any = None) -> Any:
        """The constructor argument ``name`` as given (its default when not passed), or
        ``default`` when the constructor has no such argument. Contract members whose
        default comes from a constructor argument (``Model.get_num_classes``) read it here.

        >>> class Net(Component):
        ...     def __init__(self, num_classes: int = 2):
        ...         pass
        >>> Net().init_arg("num_classes"), Net(5).init_arg("num_classes"), Net().init_arg("x", 0)
        (2, 5, 0)
        """
        return self._clara_init_args.get(name, default)

    @classmethod
    def from_config(cls: type[_C], config: Mapping[str, Any]) -> _C:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
