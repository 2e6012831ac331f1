"""The built-in AutoML controllers: Optuna samplers behind the SDK's Controller contract.

``RandomController``, ``TPEController``, ``GridController``, ``CMAESController`` and the
SDK's ``ReinforcementController`` (searched with TPE; a notice says so). Each asks the
search's Optuna study (``ctx.get_prop(STUDY)``) for its next trial, so that several
processes on one study share the sampler's history and ``max_rounds``.
"""

from __future__ import annotations

from typing import Any

from clara_core.automl.sdk import (
    Context,
    Controller,
    Outcome,
    Recommendation,
    SearchResult,
    SearchSpace,
)
from clara_core.errors import ClaraError

#: context properties the engine sets for the built-in controllers
STUDY = "_optunaStudy"
ASK = "_optunaAsk"


def _check_rounds(owner: str, max_rounds: Any) -> None:
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise ClaraError(f"Invalid value for argument `max_rounds` of {owner}: expected an "
                         f"int >= 1, received {max_rounds!r}.")


class OptunaController(Controller):
    """A controller whose recommendations are the trials an Optuna sampler suggests.

    ``max_rounds``: the search's number of finished trials (pruned and failed ones
    count; trials interrupted by a killed search are rerun and do not); ``seed``: the
    sampler's seed.
    """

    notice = ""

    def __init__(self, max_rounds: int = 10, seed: int | None = None) -> None:
        _check_rounds(type(self).__name__, max_rounds)
        self.max_rounds = max_rounds
        self.seed = seed
        self.space: SearchSpace | None = None

    def make_sampler(self, distributions: dict[str, Any]) -> Any:
        """The Optuna sampler of this controller for the search's distributions."""
        raise NotImplementedError

    def set_search_space(self, space: SearchSpace, ctx: Context) -> None:
        self.space = space

    def initial_recommendation(self, ctx: Context) -> list[Recommendation]:
        return self._next(ctx)

    def refine_recommendation(self, outcome: Outcome, ctx: Context) -> list[Recommendation]:
        return self._next(ctx)

    def _next(self, ctx: Context) -> list[Recommendation]:
        """One trial from the study (none when ``max_rounds`` are done or running)."""
        trial = ctx.get_prop(ASK)(self.max_rounds)
        if trial is None:
            return []
        assert self.space is not None
        return [Recommendation(trial.number, SearchResult(self.space, dict(trial.params)))]


class RandomController(OptunaController):
    """Samples every search item independently at random (Optuna's ``RandomSampler``)."""

    def make_sampler(self, distributions: dict[str, Any]) -> Any:
        import optuna

        return optuna.samplers.RandomSampler(seed=self.seed)


class TPEController(OptunaController):
    """Tree-structured Parzen estimators (Optuna's ``TPESampler``, multivariate): random
    for ``n_startup_trials``, then where good trials were."""

    def __init__(self, max_rounds: int = 10, seed: int | None = None,
                 n_startup_trials: int = 4) -> None:
        super().__init__(max_rounds, seed)
        self.n_startup_trials = n_startup_trials

    def make_sampler(self, distributions: dict[str, Any]) -> Any:
        import optuna

        return optuna.samplers.TPESampler(seed=self.seed, multivariate=True,
                                          n_startup_trials=self.n_startup_trials)


class ReinforcementController(TPEController):
    """The SDK's reinforcement-learning controller, searched here with TPE (Optuna's
    ``TPESampler``): same search space and ``max_rounds``, another algorithm."""

    notice = ("ReinforcementController: the SDK's reinforcement-learning controller is "
              "searched with Optuna's TPE sampler (same search space and max_rounds)")

    def __init__(self, max_rounds: int = 10, seed: int | None = None,
                 n_startup_trials: int = 4) -> None:
        super().__init__(max_rounds, seed, n_startup_trials)


class GridController(OptunaController):
    """Every combination of the enum choices (Optuna's ``GridSampler``); a float item
    is tried at ``grid_points`` evenly spaced values. ``max_rounds`` still caps it."""

    def __init__(self, max_rounds: int = 10, seed: int | None = None,
                 grid_points: int = 3) -> None:
        super().__init__(max_rounds, seed)
        self.grid_points = grid_points

    def make_sampler(self, distributions: dict[str, Any]) -> Any:
        import numpy as np
        import optuna
        from optuna.distributions import CategoricalDistribution

        grid = {name: list(d.choices) if isinstance(d, CategoricalDistribution)
                else [float(v) for v in np.linspace(d.low, d.high, self.grid_points)]
                for name, d in distributions.items()}
        return optuna.samplers.GridSampler(grid, seed=self.seed)


class CMAESController(OptunaController):
    """CMA-ES (Optuna's ``CmaEsSampler``) for float search spaces; enum items are
    sampled at random (its independent sampler)."""

    def make_sampler(self, distributions: dict[str, Any]) -> Any:
        import optuna

        return optuna.samplers.CmaEsSampler(
            seed=self.seed, warn_independent_sampling=False,
            independent_sampler=optuna.samplers.RandomSampler(seed=self.seed))


__all__ = ["ASK", "STUDY", "CMAESController", "GridController", "OptunaController",
           "RandomController", "ReinforcementController", "TPEController"]
