"""Field names along the build order: each transform reads what is there.

A case starts as its datalist item (``image``, ``label`` and the item's other keys);
each transform of ``pre_transforms`` (then ``batch_transforms``) reads the fields it
declares (:meth:`~clara_core.components.transform.Transformer.fields_read`) and
adds those it writes; the pipeline then takes its ``image_field`` and ``label_field``,
and the validation metrics read their ``field``/``label_field`` from the case, the
prediction (``model``) and the aux ops' tags. A name that nothing provides is a
problem at the config location that names it, as the run would fail there on the
first case. A transform that declares nothing is not checked, and what it writes is
not known: the fields read after it are not checked either.

>>> from clara_core.components.transform import MultiFieldTransformer
>>> chain = [(("pre_transforms", 0), MultiFieldTransformer(["image", "lable"]))]
>>> problems = []
>>> sorted(follow(chain, {"image", "label"}, problems))
['image', 'label', 'lable']
>>> print(problems[0])  # doctest: +NORMALIZE_WHITESPACE
pre_transforms[0].args.fields: MultiFieldTransformer reads field 'lable', which neither
the datalist nor an earlier transform provides (fields here: image, label); did you
mean 'label'?
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from clara_core.components.aux_op import AuxOp
from clara_core.components.metric import Metric
from clara_core.components.transform import Transformer
from clara_core.config.jsonio import Loc, problem_at, read_json
from clara_core.errors import ClaraError, Problem
from clara_core.suggest import did_you_mean


def datalist_fields(pipeline: Any, path_in_mmar: Any) -> set[str] | None:
    """The keys of ``pipeline``'s datalist items (their union); None when the pipeline
    has no readable datalist (then nothing is checked)."""
    path, key = getattr(pipeline, "data_list_file_path", None), \
        getattr(pipeline, "data_list_key", "training")
    if not isinstance(path, str) or not isinstance(key, str):
        return None
    try:
        data = read_json(path_in_mmar(path), "datalist")
    except (ClaraError, OSError):
        return None
    items = data.get(key) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return {k for item in items if isinstance(item, dict) for k in item}


def follow(chain: Sequence[tuple[Loc, Any]], available: set[str],
           problems: list[Problem]) -> set[str] | None:
    """The fields after ``chain`` (location, transform) starting from ``available``;
    None once a transform's output is not known. Problems for fields read and missing."""
    fields = set(available)
    for loc, transform in chain:
        if not isinstance(transform, Transformer):
            return None
        for name in transform.fields_read() or []:
            if name not in fields:
                problems.append(missing(loc, _arg_of(transform, name),
                                        f"{type(transform).__name__} reads", name, fields))
        written = transform.fields_written()
        if written is None:
            return None
        fields |= set(written)
    return fields


def check_readers(readers: Sequence[tuple[Loc, Any]], fields: set[str], what: str,
                  problems: list[Problem],
                  args: tuple[str, ...] = ("image_field", "label_field")) -> None:
    """Pipelines (their ``args``) and metrics (``field``, ``label_field``): each names a
    field of ``fields`` (``what``: where those come from, for the message)."""
    for loc, component in readers:
        if isinstance(component, Metric):
            names = {"field": component.field, "label_field": component.label_field}
        else:
            names = {a: getattr(component, a, None) for a in args}
        for arg, name in names.items():
            if isinstance(name, str) and name not in fields:
                problems.append(missing(loc, arg, f"{type(component).__name__} reads", name,
                                        fields, what))


def aux_tags(aux_ops: Sequence[Any]) -> set[str] | None:
    """The tags the train step's aux ops give validation cases; None when unknown."""
    tags: set[str] = set()
    for op in aux_ops:
        if not isinstance(op, AuxOp):
            return None
        tags |= set(op.output_tags())
    return tags


def missing(loc: Loc, arg: str | None, who: str, name: str, fields: set[str],
            what: str = "neither the datalist nor an earlier transform provides") -> Problem:
    """The problem of ``who`` (at ``loc``, argument ``arg``) reading ``name``."""
    where = (*loc, "args", arg) if arg else (*loc, "args")
    return problem_at(where, f"{who} field {name!r}, which {what} (fields here: "
                      f"{', '.join(sorted(fields)) or 'none'})",
                      did_you_mean(name, sorted(fields)) or
                      "name a field of the datalist's items or one an earlier transform adds")


def _arg_of(transform: Transformer, name: str) -> str | None:
    """The declared argument of ``transform`` holding ``name``."""
    for arg in transform.field_args:
        value = getattr(transform, arg, None)
        if value == name or (isinstance(value, list | tuple) and name in value):
            return arg
    return None


__all__ = ["aux_tags", "check_readers", "datalist_fields", "follow", "missing"]
