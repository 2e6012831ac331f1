"""Conformance checks of what a training run drives: data pipelines (the same seed gives
the same batches), learning-rate policies (``get_state``/``set_state`` resume them
where they were) and handlers (every event of a run, with and without validation)."""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from clara_core.components.build_ctx import BuildContext
from clara_core.components.handler import Handler
from clara_core.components.run_state import RunState
from clara_core.components.transform import MultiFieldTransformer, Transformer
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext

#: ``sample(pipeline, folder)``: write a dataset under ``folder`` where the pipeline
#: reads it (relative to its root) and return the transforms to give it
PipelineSample = Callable[[Any, str], Sequence[Transformer]]


class ArrayLoader(MultiFieldTransformer):
    """The kit's loader: each field's ``.npy`` file as a ``CDHW`` image."""

    is_loader = True

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        for field in self.fields:
            path = str(transform_ctx[field])
            transform_ctx.set_image(field, MedicalImage(
                np.load(path).astype(np.float32), "CDHW", {"filename": path,
                                                           "affine": np.eye(4)}))
        return transform_ctx


class RandomFlipNoise(MultiFieldTransformer):
    """The kit's random transform, drawing from ``self.R``: noise on the first field
    and the same random flip of every field."""

    def is_deterministic(self) -> bool:
        return False

    def transform(self, transform_ctx: TransformContext) -> TransformContext:
        flip = bool(self.R.random() < 0.5)
        for i, field in enumerate(self.fields):
            image = transform_ctx.get_image(field)
            data = image.get_data()
            if i == 0:
                data = data + self.R.normal(scale=0.1, size=data.shape)
            if flip:
                data = data[:, ::-1]
            transform_ctx.set_image(field, image.new_image(
                np.ascontiguousarray(data, np.float32), image.get_shape_format()))
        return transform_ctx


def default_pipeline_sample(pipeline: Any, folder: str, cases: int = 4,
                            seed: int = 0) -> list[Transformer]:
    """Write ``cases`` 1x8x8x8 image and label ``.npy`` files and a datalist under
    ``folder`` where the SDK's pipeline arguments say (``data_list_file_path``,
    ``data_file_base_dir``, ``data_list_key``); return the kit's loader and a random
    flip-and-noise transform of the image and label fields."""
    config = pipeline.get_config()
    listing = str(config.get("data_list_file_path") or "dataset.json")
    assert not os.path.isabs(listing), (
        f"{type(pipeline).__name__}: give the pipeline a relative data_list_file_path "
        "for the kit (it writes the dataset in a temporary folder), or pass sample=.")
    list_path = os.path.join(folder, listing)
    base = config.get("data_file_base_dir")
    data_dir = os.path.join(folder, str(base)) if base else os.path.dirname(list_path)
    os.makedirs(data_dir, exist_ok=True)
    fields = [pipeline.image_field, pipeline.label_field]
    rng = np.random.default_rng(seed)
    items = []
    for i in range(cases):
        item = {}
        for field in fields:
            data = rng.normal(size=(1, 8, 8, 8)) if field == fields[0] else \
                (rng.random((1, 8, 8, 8)) > 0.5)
            np.save(os.path.join(data_dir, f"{field}_{i}.npy"), data.astype(np.float32))
            item[field] = f"{field}_{i}.npy"
        items.append(item)
    with open(list_path, "w", encoding="utf-8") as f:
        json.dump({str(config.get("data_list_key") or "training"): items}, f)
    return [ArrayLoader(fields), RandomFlipNoise(fields)]


def _two_epochs(pipeline: Any, folder: str, transforms: Sequence[Transformer],
                seed: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Set the pipeline up as the engine does and read two epochs of batches."""
    pipeline.set_root(folder)
    pipeline.set_seed(seed)
    pipeline.set_transforms(transforms)
    pipeline.build(BuildContext())
    return [[(np.array(x), np.array(y)) for x, y in pipeline.feed(epoch)] for epoch in (0, 1)]


def check_pipeline_same_seed_same_batches(
        component: Any, sample: PipelineSample | None = None) -> None:
    """Two pipelines of the same config and seed give the same batches, epoch by epoch
    (what makes a run repeatable and a resumed run the run it continues)."""
    name = type(component).__name__
    make = sample or default_pipeline_sample
    with tempfile.TemporaryDirectory() as folder:
        runs = [_two_epochs(type(component).from_config(component.get_config()), folder,
                            make(component, folder), seed=7) for _ in range(2)]
    for epoch, (a, b) in enumerate(zip(*runs, strict=True)):
        assert a, f"{name}.feed({epoch}) gave no batch from a dataset of cases."
        assert len(a) == len(b), (
            f"{name}: with the same seed, epoch {epoch} has {len(a)} then {len(b)} batches.")
        for i, ((xa, ya), (xb, yb)) in enumerate(zip(a, b, strict=True)):
            assert np.array_equal(xa, xb) and np.array_equal(ya, yb), (
                f"{name}: two pipelines with seed 7 give different batches in epoch {epoch} "
                f"(batch {i}): draw every random choice (case order, each transform's "
                "generator through set_random_state) from the seed set_seed gives.")


#: the key metric a run reports at each of 40 epochs: it improves until epoch 5, then
#: stays the same (so plateau policies reduce the rate several times)
_METRICS = [min(e, 5) * 0.1 for e in range(40)]


def _step(policy: Any, epoch: int) -> float:
    rate = policy.get_learning_rate(epoch, 0.01, len(_METRICS))
    policy.update_metric(_METRICS[epoch])
    return float(rate)


def check_lr_policy_state_roundtrip(component: Any) -> None:
    """A policy restarted half-way with ``set_state`` of ``get_state`` (through JSON, as
    ``clara train --resume`` saves it) gives the rates of the one that kept running."""
    name = type(component).__name__
    policy = type(component).from_config(component.get_config())
    half = len(_METRICS) // 2
    for epoch in range(half):
        _step(policy, epoch)
    try:
        text = json.dumps(policy.get_state())
    except TypeError as exc:
        raise AssertionError(f"{name}.get_state() is not JSON-serialisable ({exc}): the "
                             "resume point saves it as JSON; use numbers, strings and "
                             "lists.") from None
    resumed = type(component).from_config(component.get_config())
    resumed.set_state(json.loads(text))
    for epoch in range(half, len(_METRICS)):
        kept, again = _step(policy, epoch), _step(resumed, epoch)
        assert math.isfinite(kept) and kept >= 0, (
            f"{name}.get_learning_rate({epoch}, ...) is {kept}: return a finite rate >= 0.")
        assert math.isclose(kept, again, rel_tol=1e-9, abs_tol=1e-15), (
            f"{name}: restarted with set_state(get_state()) after epoch {half}, the rate "
            f"at epoch {epoch} is {again}, but {kept} without the restart: return every "
            "value that changes during training from get_state and restore it in "
            "set_state (clara train --resume relies on it).")


def _fire(event: Callable[[RunState], None], state: RunState, note: str) -> None:
    """Call one bound event method of a handler, as the trainer does."""
    name = f"{type(event.__self__).__name__}.{event.__name__}"  # type: ignore[attr-defined]
    before = copy.deepcopy(state.resumable())
    try:
        event(state)
    except Exception as exc:
        raise AssertionError(
            f"{name}() raised {type(exc).__name__}: {exc} ({note}). Read "
            "state.metrics and state.record with .get: validation does not run every "
            "epoch, and a run's first epoch has no best metric yet.") from exc
    assert state.resumable() == before, (
        f"{name}() changed the run's state ({note}): a handler may set "
        "state.stop and call state.log; the rest is the trainer's.")


def run_handler_events(handler: Handler, lines: list[str]) -> RunState:
    """Send ``handler`` the events of a two-epoch run of two steps each: epoch 1
    without validation, epoch 2 with; its log lines go to ``lines``."""
    state = RunState(epochs=2, key_metric="mean_dice", log=lines.append)
    _fire(handler.started, state, "before the first epoch")
    for epoch in (1, 2):
        note = f"epoch {epoch}, " + ("no validation" if epoch == 1 else "after validation")
        state.start_epoch()
        _fire(handler.epoch_started, state, note)
        for step in (1, 2):
            state.step, state.loss = step, 1.0 / (epoch + step)
            state.step_losses.append(state.loss)
            _fire(handler.iteration_completed, state, note)
        record: dict[str, Any] = {"epoch": epoch, "loss": 0.5 / epoch, "lr": 0.001, "steps": 2}
        if epoch == 2:
            state.metrics = {"mean_dice": 0.75}
            record["mean_dice"] = 0.75
            state.best_key_metric, state.best_epoch = 0.75, 2
        state.complete_epoch(record)
        _fire(handler.epoch_completed, state, note)
    state.seconds = 1.5
    _fire(handler.completed, state, "at the end of the run")
    return state


def check_handler_events(component: Any) -> None:
    """A handler takes each event of a two-epoch run, one epoch with
    validation and one without, without raising or changing the run's state."""
    run_handler_events(type(component).from_config(component.get_config()), [])


__all__ = ["ArrayLoader", "RandomFlipNoise", "check_handler_events",
           "check_lr_policy_state_roundtrip", "check_pipeline_same_seed_same_batches",
           "default_pipeline_sample", "run_handler_events"]
