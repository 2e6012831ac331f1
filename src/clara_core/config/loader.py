"""Loading a config: JSON, environment variables, ``--set`` overrides, disabled entries."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clara_core.config.comments import strip_comments
from clara_core.config.jsonio import read_json
from clara_core.config.overrides import apply_overrides
from clara_core.config.sections import FOREIGN_CONFIGS
from clara_core.config.variables import resolve_environment, substitute
from clara_core.errors import ConfigError, Problem

DEFAULT_TRAIN_CONFIG = os.path.join("config", "config_train.json")
DEFAULT_ENVIRONMENT = os.path.join("config", "environment.json")


@dataclass
class LoadedConfig:
    """A config ready to validate: variables substituted, disabled entries dropped."""

    config: dict[str, Any]
    env: dict[str, Any]
    config_path: str
    env_path: str | None
    mmar_root: str
    overrides: list[str] = field(default_factory=list)
    #: where the config had comment keys (``_...``), taken out unread
    comments: list[str] = field(default_factory=list)

    @property
    def is_eval(self) -> bool:
        """A validation config (``clara validate``) rather than a train config."""
        return "train" not in self.config and any(
            k in self.config for k in ("val_metrics", "model_loader", "post_transforms", "writers")
        )

    def path_in_mmar(self, value: str) -> str:
        """Resolve a relative path from the config against the MMAR root."""
        return value if os.path.isabs(value) else os.path.join(self.mmar_root, value)

    def writable_roots(self) -> list[str]:
        """Where a config under names-only may write: its MMAR, and the folders the
        command line named (``--set`` values)."""
        given = [v.partition("=")[2].strip() for v in self.overrides]
        return [os.path.realpath(p) for p in
                [self.mmar_root, *(self.path_in_mmar(v) for v in given if v)]]

    def may_write(self, path: str) -> bool:
        """Whether ``path`` (resolved, links followed) is inside a writable root."""
        real = os.path.realpath(self.path_in_mmar(path))
        return any(real == root or real.startswith(root + os.sep)
                   for root in self.writable_roots())


def locate(
    mmar: str | None = None, config: str | None = None, env: str | None = None
) -> tuple[str, str | None, str]:
    """(config path, environment path or None, MMAR root) from the CLI's -m/-c/-e."""
    if mmar is None and config is None:
        raise ConfigError([Problem("", "no config given", "use -m MMAR_FOLDER or -c CONFIG.json")])
    if mmar is not None:
        root = os.path.abspath(mmar)
        if not os.path.isdir(root):
            raise ConfigError([Problem(mmar, "MMAR folder not found",
                                       "give the folder that holds config/")])
        config_path = config if config is not None else os.path.join(root, DEFAULT_TRAIN_CONFIG)
        if config is not None and not os.path.isabs(config) and not os.path.exists(config):
            config_path = os.path.join(root, config)
        env_path = env
        if env is not None and not os.path.isabs(env) and not os.path.exists(env):
            env_path = os.path.join(root, env)
        if env_path is None and os.path.isfile(os.path.join(root, DEFAULT_ENVIRONMENT)):
            env_path = os.path.join(root, DEFAULT_ENVIRONMENT)
        return config_path, env_path, root
    assert config is not None
    folder = os.path.dirname(os.path.abspath(config))
    root = os.path.dirname(folder) if os.path.basename(folder) == "config" else folder
    return config, env, root


def drop_disabled(value: Any) -> Any:
    """Remove component entries with ``"disabled": true``: a section's value goes; a list
    item becomes ``{"disabled": true}``, which the builder skips, so the items after it
    keep the index they have in the file (in messages and in ``--set`` paths).

    >>> drop_disabled({"a": {"name": "X", "disabled": True}, "b": [{"name": "Y", "disabled": True},
    ...                                                            {"name": "Z"}]})
    {'b': [{'disabled': True}, {'name': 'Z'}]}
    """
    if isinstance(value, list):
        return [dict(DISABLED) if _disabled(v) else drop_disabled(v) for v in value]
    if isinstance(value, dict):
        return {k: drop_disabled(v) for k, v in value.items() if not _disabled(v)}
    return value


#: what a disabled list item becomes (a new dict each time it is used: configs are mutable)
DISABLED = {"disabled": True}


def _disabled(value: Any) -> bool:
    return isinstance(value, dict) and value.get("disabled") is True


def load_config(
    config_path: str,
    env_path: str | None = None,
    overrides: Sequence[str] = (),
    mmar_root: str | None = None,
) -> LoadedConfig:
    """Read, override and substitute a config; every problem is raised together."""
    config = read_json(config_path, "config")
    if not isinstance(config, dict):
        raise ConfigError([Problem(config_path, "a config must be a JSON object { ... }")])
    foreign = [why for key, why in FOREIGN_CONFIGS.items() if key in config]
    if foreign and "train" not in config:
        raise ConfigError([Problem("", foreign[0])], config_path)
    env: dict[str, Any] = {}
    if env_path is not None:
        env_data = read_json(env_path, "environment file")
        if not isinstance(env_data, dict):
            raise ConfigError([Problem(env_path, "environment.json must be a JSON object")])
        env.update(env_data)
    root = os.path.abspath(mmar_root or os.path.dirname(os.path.abspath(config_path)))
    env.setdefault("MMAR_ROOT", root)
    problems = apply_overrides(config, env, overrides)
    config, comments = strip_comments(config)  # after --set: a set comment stays one
    env = resolve_environment(env, problems)
    config = substitute(drop_disabled(config), env, problems)
    if problems:
        raise ConfigError(problems, config_path)
    return LoadedConfig(config, env, config_path, env_path, root, list(overrides), comments)
