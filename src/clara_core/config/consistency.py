"""What the created components of a config must agree on before a run starts.

``config check`` and ``clara train`` share these checks, run once every component
is created: sizes within memory (:mod:`~clara_core.config.bounds`), field names
along the build order (:mod:`~clara_core.config.fields`) and one data format for
the tensors the train step passes between the pipeline, the model, the loss and
the aux ops (the model's compute layout is the engine's business:
:mod:`clara_core.workflow.compute_layout`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clara_core.arguments import DATA_FORMATS
from clara_core.components.transform import Transformer
from clara_core.config.bounds import check_sizes, check_window_rank
from clara_core.config.entries import Entry
from clara_core.config.fields import aux_tags, check_readers, datalist_fields, follow
from clara_core.config.jsonio import Loc, format_location, problem_at
from clara_core.errors import Problem

Shapes = dict[str, dict[str, Any]]


def check_consistency(shapes: Shapes, entries: list[Entry], path_in_mmar: Callable[[str], str],
                      check_data: bool = True) -> list[Problem]:
    """The problems of a config whose components were all created (``shapes`` and
    ``entries`` as :func:`~clara_core.config.entries.walk` gave them)."""
    by_loc = {e.loc: e.instance for e in entries}
    train = shapes.get("train", {})
    batch = getattr(by_loc.get(train.get("image_pipeline", ())), "output_batch_size", 1)
    problems = check_sizes(entries, {("train",): batch} if isinstance(batch, int) else {})
    problems += check_window_rank(entries)
    problems += check_data_formats(train, by_loc)
    if check_data:
        problems += check_field_names(shapes, by_loc, path_in_mmar)
    return problems


def check_data_formats(train: dict[str, Any], by_loc: dict[Loc, Any]) -> list[Problem]:
    """The model, loss and aux ops take the ``data_format`` the train pipeline gives
    (its ``output_data_format``); the first that differs is a problem at its place."""
    pipe_loc = train.get("image_pipeline")
    given = getattr(by_loc.get(pipe_loc), "output_data_format", None) if pipe_loc else None
    if given not in DATA_FORMATS or pipe_loc is None:
        return []
    locs = [train[k] for k in ("model", "loss") if k in train]
    locs += [loc for k in ("aux_ops", "metrics") for loc in train.get(k, [])]
    problems: list[Problem] = []
    for loc in locs:
        fmt = getattr(by_loc.get(loc), "data_format", None)
        if fmt in DATA_FORMATS and fmt != given:
            where = format_location((*pipe_loc, "args", "output_data_format"))
            problems.append(problem_at(
                (*loc, "args", "data_format"),
                f"{type(by_loc[loc]).__name__} takes {fmt} tensors, but the train pipeline "
                f"gives {given} ({where})",
                f'set "data_format": "{given}" here, or the pipeline\'s output_data_format '
                f"to {fmt}, the same everywhere"))
    return problems


def check_field_names(shapes: Shapes, by_loc: dict[Loc, Any],
                      path_in_mmar: Callable[[str], str]) -> list[Problem]:
    """Each section's chain from its datalist, then what its pipeline and (validation)
    metrics read; sections without a readable datalist are not checked."""
    problems: list[Problem] = []
    train = shapes.get("train", {})
    tags = aux_tags([by_loc[loc] for k in ("aux_ops", "metrics") for loc in train.get(k, [])])
    for section in ("train", "validate"):
        shape = shapes.get(section, {})
        pipe_loc = shape.get("image_pipeline")
        if pipe_loc is None:
            continue
        start = datalist_fields(by_loc[pipe_loc], path_in_mmar)
        if start is None:
            continue
        chain = [(loc, by_loc[loc]) for loc in shape.get("pre_transforms", [])]
        fields = follow(chain, start, problems)
        if fields is None:
            continue
        # validation cases may come without labels (the metrics that need them say so)
        check_readers([(pipe_loc, by_loc[pipe_loc])], fields,
                      "neither the datalist nor the pre_transforms provide", problems,
                      ("image_field", "label_field") if section == "train" else ("image_field",))
        problems += unloaded_image(pipe_loc, by_loc[pipe_loc], chain, start)
        if section == "validate" and tags is not None:
            metrics = [(loc, by_loc[loc]) for loc in shape.get("metrics", [])]
            check_readers(metrics, fields | {"model"} | tags,
                          "neither the datalist, the pre_transforms, the prediction ('model') "
                          "nor the train aux ops' tags provide", problems)
    return problems


def unloaded_image(pipe_loc: Loc, pipeline: Any, chain: list[tuple[Loc, Any]],
                   datalist: set[str]) -> list[Problem]:
    """The pipeline's ``image_field`` is an image: some transform of the chain wrote it
    (a loader), else it is still the datalist's file name. Only for pipelines that pass
    datalist items to the chain as they are (``items_are_file_names``)."""
    name = getattr(pipeline, "image_field", None)
    if not getattr(pipeline, "items_are_file_names", False) or not isinstance(name, str) \
            or name not in datalist:
        return []
    for _, transform in chain:
        written = transform.fields_written() if isinstance(transform, Transformer) else None
        if written is None or name in written:
            return []
    section = format_location((*pipe_loc[:-1], "pre_transforms"))
    return [problem_at((*pipe_loc, "args"), f"{type(pipeline).__name__} takes field "
                       f"{name!r} as the image, but no transform of {section} loads it: it "
                       "is still the datalist's file name",
                       f"start {section} with a loader of {name!r} (LoadNifti, LoadImage, ...)")]


__all__ = ["check_consistency", "check_data_formats", "check_field_names", "unloaded_image"]
