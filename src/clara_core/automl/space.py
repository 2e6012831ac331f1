"""A parsed search space (:class:`~clara_core.config.automl.SearchSpec`) as the SDK's
:class:`~.sdk.SearchSpace` and as Optuna distributions.

Each search item is one Optuna parameter named by its PRL: a ``float`` item a
``FloatDistribution(min, max)``, an ``enum`` item a ``CategoricalDistribution`` of its
choice indexes (so that choices holding lists or objects stay JSON).

>>> from clara_core.config.automl import SearchItem, SearchSpec, Target
>>> spec = SearchSpec([SearchItem(("search", 0), (), "lr", "enum",
...                               (Target("setting", "learning_rate"),), choices=((1e-3,), (1e-4,)))])
>>> [(k, [r.value for r in v]) for k, v in sdk_space(spec, "run").targets.items()]
[('lr.enum.top:learning_rate', [(0.001,), (0.0001,)])]
>>> distributions(spec)["lr.enum.top:learning_rate"].choices
(0, 1)
"""

from __future__ import annotations

from typing import Any

from clara_core.automl.sdk import SearchRange, SearchSpace
from clara_core.config.automl import SearchSpec


def sdk_space(spec: SearchSpec, name: str) -> SearchSpace:
    """The SDK's view: each PRL to its ranges (a float's one, an enum's choices)."""
    targets: dict[str, list[SearchRange]] = {}
    for item in spec.items:
        if item.type == "float":
            targets[item.prl] = [SearchRange(item.low, item.high)]
        else:
            targets[item.prl] = [SearchRange(i, i, c) for i, c in enumerate(item.choices)]
    return SearchSpace(name, targets)


def distributions(spec: SearchSpec) -> dict[str, Any]:
    """Optuna's distributions, by PRL."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    return {item.prl: FloatDistribution(item.low, item.high) if item.type == "float"
            else CategoricalDistribution(tuple(range(len(item.choices))))
            for item in spec.items}


def concrete_values(spec: SearchSpec, point: dict[str, Any]) -> dict[str, list[Any]]:
    """Each PRL to the values its args get at ``point`` (the SDK's
    ``CONCRETE_SEARCH_VALUE``: a list, one value per arg)."""
    return {item.prl: list(item.values(point[item.prl])) for item in spec.items}


def is_float_only(spec: SearchSpec) -> bool:
    return all(item.type == "float" for item in spec.items)


__all__ = ["concrete_values", "distributions", "is_float_only", "sdk_space"]
