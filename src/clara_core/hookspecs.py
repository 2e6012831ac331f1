"""The pluggy hooks a ``clara.plugins`` entry point may implement.

A plugin is a module (or object) registered under the ``clara.plugins``
entry-point group whose functions are marked with :data:`hookimpl`::

    # my_pack/plugin.py
    from clara_core.hookspecs import hookimpl

    @hookimpl
    def clara_register_components():
        return [("loss", "MyLoss", "my_pack.losses:MyLoss")]

    # pyproject.toml
    [project.entry-points."clara.plugins"]
    my_pack = "my_pack.plugin"

Keep plugin modules light: they are imported whenever the registry is listed.

**Run events.** A plugin also listens to runs: ``clara train``, ``clara validate`` and
``clara infer`` call the ``clara_*`` event hooks below, on the chief process only, at
most once per epoch, validation, checkpoint or case (step values at the config's
``train_summary_recording_interval``, never once per step). The argument names are
the contract; a hookimpl takes any subset of them, in any order (pluggy's rule)::

    @hookimpl
    def clara_epoch_ended(epoch, metrics):
        print(epoch, metrics["loss"])

``run`` is the run's public state (:class:`~clara_core.components.run_state.RunInfo`;
for training its :class:`~clara_core.components.run_state.RunState`): the command,
the MMAR, the run folder, the trackers asked for (``run.tracking``) and ``run.log``,
which prints a line above the progress bar. A hook that raises stops the run as
Ctrl-C does (a resume point is written) with one message naming the plugin, the
hook and the error; a plugin that must never stop training (tracking) catches its
own failures. The config's handlers see the same stream of events.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pluggy

PROJECT = "clara"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ComponentSpec(NamedTuple):
    """A component registered programmatically.

    ``target`` is a ``"module:attr"`` string (imported when used) or the object itself.
    """

    kind: str
    name: str
    target: Any


@hookspec
def clara_register_components() -> list[ComponentSpec | tuple[str, str, Any]]:  # type: ignore[empty-body]
    """Return components to register: ``(kind, name, target)`` triples.

    ``kind`` is one of ``clara_core.registry.kinds.KINDS`` (``"loss"``, ``"model"``, ...).
    """


# -- run events ---------------------------------------------------------------------
# Called by clara_core.workflow.events.RunEvents, on the chief only.


@hookspec
def clara_trackers() -> list[str]:  # type: ignore[empty-body]
    """Names of the experiment trackers this plugin offers (``["mlflow"]``): the values
    ``--tracking`` and the ``tracking`` setting accept. A tracker does nothing unless
    ``run.tracking`` names it."""


@hookspec
def clara_train_started(run: Any, config: dict[str, Any]) -> None:
    """A training run starts (or resumes: ``run.resumed``); ``config`` is the resolved
    train config as plain JSON (variables substituted, ``--set`` applied)."""


@hookspec
def clara_train_summary(run: Any, iteration: int, metrics: dict[str, float]) -> None:
    """Every ``train_summary_recording_interval`` optimizer steps: ``iteration`` counts
    steps from the start of training, ``metrics`` the step's loss and aux-op values."""


@hookspec
def clara_epoch_ended(run: Any, epoch: int, metrics: dict[str, float]) -> None:
    """Epoch ``epoch`` (1-based) ended; ``metrics`` holds its line of ``metrics.jsonl``
    (loss, lr, steps, seconds, aux ops and, when it validated, validation metrics)."""


@hookspec
def clara_validation_ended(run: Any, epoch: int, metrics: dict[str, float]) -> None:
    """Validation after epoch ``epoch`` (1-based) ended with ``metrics``."""


@hookspec
def clara_checkpoint_saved(run: Any, path: str, kind: str) -> None:
    """A file exists at ``path``: ``kind`` is ``"latest"``, ``"best"``, ``"final"``
    (weights), ``"resume"`` (the resume point's ``train_state.json``) or ``"model"``
    (the final ``.keras`` model)."""


@hookspec
def clara_train_ended(run: Any, result: Any) -> None:
    """Training ended: ``result`` is the :class:`~clara_core.workflow.trainer.TrainResult`
    (``interrupted`` when Ctrl-C, SIGTERM or a hook stopped it; a failed run, NaN loss
    included, ends with ``result.error`` set)."""


@hookspec
def clara_validate_started(run: Any, config: dict[str, Any]) -> None:
    """``clara validate`` starts with the resolved validation config."""


@hookspec
def clara_case_validated(run: Any, case: str, metrics: dict[str, float]) -> None:
    """One case of ``clara validate`` is done: its file name and per-case metric values."""


@hookspec
def clara_validate_ended(run: Any, metrics: dict[str, float]) -> None:
    """``clara validate`` ended with the aggregated metrics."""


@hookspec
def clara_infer_started(run: Any, inputs: list[str]) -> None:
    """``clara infer`` starts on ``inputs`` (files, folders or datalist entries)."""


@hookspec
def clara_case_inferred(run: Any, case: str, output: str | None, error: str | None) -> None:
    """One input of ``clara infer`` is done: ``output`` is the file written (None when it
    was skipped or failed; ``error`` then says why, or is None for a skip)."""


@hookspec
def clara_infer_ended(run: Any, result: dict[str, int]) -> None:
    """``clara infer`` ended: counts of ``written``, ``skipped`` and ``failed`` inputs."""


@hookspec
def clara_search_started(run: Any, search: dict[str, Any]) -> dict[str, str] | None:
    """``clara automl`` starts or resumes a search in ``run.run_folder``
    (``automl/<run_id>``): ``search`` holds ``run_id``, ``study`` (the journal file or
    storage URL, the same for every process that joins), ``train_config``,
    ``search_items``, ``max_rounds`` and ``workers``. A plugin may return environment
    variables every trial's ``clara train`` process gets (a tracker's parent run)."""


@hookspec
def clara_trial_ended(run: Any, trial: int, job: str, state: str, score: float | None,
                      values: dict[str, Any], epochs: int) -> None:
    """A trial of the search ended: its number, its MMAR's folder name (``job``), its
    ``state`` (complete, pruned, failed, interrupted), its best key-metric ``score``,
    the concrete search ``values`` it trained with and the ``epochs`` it ran."""


@hookspec
def clara_search_ended(run: Any, result: dict[str, Any]) -> None:
    """This process's part of the search ended: ``result`` counts the study's trials
    per state and holds ``best_score`` and ``best_trial`` (None when none completed)
    and ``interrupted``."""


#: the run-event hooks, in the order a training run calls them
RUN_EVENTS = (
    "clara_train_started", "clara_train_summary", "clara_epoch_ended",
    "clara_validation_ended", "clara_checkpoint_saved", "clara_train_ended",
    "clara_validate_started", "clara_case_validated", "clara_validate_ended",
    "clara_infer_started", "clara_case_inferred", "clara_infer_ended",
    "clara_search_started", "clara_trial_ended", "clara_search_ended",
)
