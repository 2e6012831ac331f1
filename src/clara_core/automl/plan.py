"""Reading a search: ``clara automl``'s arguments, the train config's search space and
``config/config_automl.json`` (controller, executor, handlers, pruner)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from clara_core.automl.sdk import Controller, Handler
from clara_core.config.automl import SearchSpec, parse_search_space
from clara_core.config.entries import layout
from clara_core.config.jsonio import problem_at, read_json
from clara_core.config.loader import DEFAULT_ENVIRONMENT, LoadedConfig
from clara_core.config.overrides import apply_overrides
from clara_core.config.variables import resolve_environment, substitute
from clara_core.errors import ConfigError, Problem
from clara_core.registry.registry import Registry

#: the ``--set`` keys of the SDK's automl command (the others go to the train config)
COMMAND_KEYS = ("run_id", "trainconf", "workers", "traceout", "engTrace", "automlconf")
DEFAULT_AUTOML_CONFIG = os.path.join("config", "config_automl.json")
EXECUTORS = ("MMARExecutor",)
PRUNERS = {"median": "MedianPruner", "hyperband": "HyperbandPruner", "none": "NopPruner",
           "MedianPruner": "MedianPruner", "HyperbandPruner": "HyperbandPruner",
           "NopPruner": "NopPruner", "PercentilePruner": "PercentilePruner",
           "SuccessiveHalvingPruner": "SuccessiveHalvingPruner"}


@dataclass
class SearchPlan:
    """Everything a search needs, checked before any trial runs."""

    mmar_root: str
    run_id: str
    train_config_path: str
    config: dict[str, Any]  # the train config as written (overrides applied)
    env: dict[str, Any]  # its environment, resolved
    spec: SearchSpec
    controller: Controller
    handlers: list[Handler] = field(default_factory=list)
    pruner: tuple[str, dict[str, Any]] | None = None
    workers: list[str | None] = field(default_factory=lambda: [None])
    traceout: str = "console"
    notices: list[str] = field(default_factory=list)
    names_only: bool = False
    tracking: list[str] = field(default_factory=list)
    #: the installed plugins' run-event hooks (None: none listens)
    hooks: Any = field(default=None, repr=False)

    @property
    def run_dir(self) -> str:
        return os.path.join(self.mmar_root, "automl", self.run_id)


def split_sets(pairs: list[str]) -> tuple[dict[str, str], list[str]]:
    """The command's own ``--set`` keys, and the overrides for the train config.

    >>> split_sets(["run_id=a", "workers=0:1", "epochs=2"])
    ({'run_id': 'a', 'workers': '0:1'}, ['epochs=2'])
    """
    own: dict[str, str] = {}
    rest: list[str] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if sep and key.strip() in COMMAND_KEYS:
            own[key.strip()] = value.strip()
        else:
            rest.append(pair)
    return own, rest


def parse_workers(text: str) -> list[str | None]:
    """``0:1:2:3`` -> one worker per GPU id (``0:0``: two on GPU 0); ``cpu:cpu`` or a
    count (``2``) -> workers without a GPU.

    >>> parse_workers("0:1"), parse_workers("0:0"), parse_workers("cpu:cpu")
    (['0', '1'], ['0', '0'], [None, None])
    """
    parts = [p.strip() for p in text.split(":") if p.strip()]
    if not parts:
        raise ConfigError([Problem("--set workers", "expected GPU ids separated by ':' "
                                   "(0:1:2:3), or cpu:cpu for workers without a GPU")])
    return [None if p.lower() == "cpu" else p for p in parts]


def load_train_config(mmar_root: str, trainconf: str, overrides: list[str]
                      ) -> tuple[str, dict[str, Any], dict[str, Any], SearchSpec]:
    """(path, config as written with overrides, environment, search space)."""
    path = trainconf if os.path.isabs(trainconf) else os.path.join(mmar_root, "config", trainconf)
    if not os.path.isfile(path) and os.path.isfile(os.path.join(mmar_root, trainconf)):
        path = os.path.join(mmar_root, trainconf)
    config = read_json(path, "train config")
    if not isinstance(config, dict):
        raise ConfigError([Problem(path, "a config must be a JSON object { ... }")])
    env_path = os.path.join(mmar_root, DEFAULT_ENVIRONMENT)
    env: dict[str, Any] = {}
    if os.path.isfile(env_path):
        env.update(read_json(env_path, "environment file"))
    env.setdefault("MMAR_ROOT", mmar_root)
    problems = apply_overrides(config, env, overrides)
    env = resolve_environment(env, problems)
    spec = parse_search_space(config, layout(False), problems)
    if not spec and not problems:
        problems.append(Problem("", "no search space: nothing for AutoML to search",
                                'add "search" items to the train config (see docs/automl.md)'))
    if problems:
        raise ConfigError(problems, path)
    return path, config, env, spec


def load_automl_config(path: str, mmar_root: str, variables: dict[str, Any],
                       registry: Registry) -> tuple[Controller, list[Handler],
                                                    tuple[str, dict[str, Any]] | None,
                                                    list[str]]:
    """The controller, handlers and pruner of ``config_automl.json`` (every problem at once)."""
    from clara_core.config.builder import ConfigBuilder

    raw = read_json(path, "AutoML config")
    problems: list[Problem] = []
    if not isinstance(raw, dict):
        raise ConfigError([Problem(path, "an AutoML config must be a JSON object { ... }")])
    cfg = substitute(raw, variables, problems)
    loaded = LoadedConfig(cfg, dict(variables), path, None, mmar_root)
    builder = ConfigBuilder(registry, check_data=False)
    notices: list[str] = []
    controller = _create(builder, "automl_controller", cfg.get("controller"), ("controller",),
                         loaded, problems, notices)
    handlers = []
    for i, spec in enumerate(cfg.get("handlers") or []):
        handlers.append(_create(builder, "automl_handler", spec, ("handlers", i), loaded,
                                problems, notices))
    _check_executor(cfg.get("executor"), problems)
    pruner = _pruner(cfg.get("pruner"), problems)
    for key in cfg:
        if key not in ("controller", "handlers", "executor", "pruner"):
            problems.append(problem_at((key,), f"unknown key {key!r} of an AutoML config",
                                       "it has controller, executor, handlers and pruner"))
    if controller is None and not any(p.location.startswith("controller") for p in problems):
        problems.append(problem_at(("controller",), "missing: an AutoML config names its "
                                   'controller, e.g. {"name": "TPEController", '
                                   '"args": {"max_rounds": 8}}'))
    if problems:
        raise ConfigError(problems, path)
    notice = getattr(type(controller), "notice", "")
    return controller, handlers, pruner, notices + ([notice] if notice else [])


def _create(builder: Any, kind: str, spec: Any, loc: tuple[str | int, ...],
            loaded: LoadedConfig, problems: list[Problem], notices: list[str]) -> Any:
    if spec is None:
        return None
    try:
        instance = builder.create(kind, spec, loaded, loc)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None
    notices.extend(builder.notices)
    return instance


def _check_executor(spec: Any, problems: list[Problem]) -> None:
    if spec is None:
        return
    name = spec.get("name") if isinstance(spec, dict) else None
    if name not in EXECUTORS:
        problems.append(problem_at(("executor",), f"clara runs each trial as an MMAR with "
                                   f"clara train (MMARExecutor); received {spec!r}",
                                   'use {"name": "MMARExecutor"} or leave executor out'))


def _pruner(spec: Any, problems: list[Problem]) -> tuple[str, dict[str, Any]] | None:
    """``"pruner": {"name": "median"|"hyperband"|..., "args": {...}}`` (Optuna's pruners)."""
    if spec is None:
        return None
    name = spec.get("name") if isinstance(spec, dict) else spec
    args = spec.get("args", {}) if isinstance(spec, dict) else {}
    if name not in PRUNERS or not isinstance(args, dict):
        problems.append(problem_at(("pruner",), f"unknown pruner {spec!r}",
                                   "use median, hyperband or none (Optuna's MedianPruner, "
                                   'HyperbandPruner), e.g. {"name": "median", "args": '
                                   '{"n_warmup_steps": 1}}'))
        return None
    try:
        make_pruner((PRUNERS[name], args))
    except (TypeError, ValueError) as exc:
        problems.append(problem_at(("pruner", "args"), f"{PRUNERS[name]} rejected its "
                                   f"arguments: {exc}"))
        return None
    return PRUNERS[name], dict(args)


def make_pruner(spec: tuple[str, dict[str, Any]] | None) -> Any:
    import optuna

    if spec is None:
        return optuna.pruners.NopPruner()
    name, args = spec
    return getattr(optuna.pruners, name)(**args)


__all__ = ["SearchPlan", "load_automl_config", "load_train_config", "make_pruner",
           "parse_workers", "split_sets"]
