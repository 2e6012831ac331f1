"""Shared fixtures: small plugin distributions installed for real with pip."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Each fixture distribution: pyproject entry points and its package's modules.
FIXTURE_DISTS: dict[str, dict[str, object]] = {
    "fx-alpha": {
        "entry_points": {"clara.losses": {"FxLoss": "fx_alpha.losses:FxLoss",
                                          "LazyLoss": "fx_alpha.heavy:LazyLoss"},
                         "clara.metrics": {"FxMetric": "fx_alpha.losses:FxMetric"}},
        "modules": {
            "losses": """
                from clara_core import Loss, Metric, MetricList

                class FxLoss(Loss):
                    '''Alpha's loss.'''
                    def __init__(self, weight: float = 1.0):
                        self.weight = weight

                class FxMetric(Metric):
                    def __init__(self, name: str, field: str = "model"):
                        Metric.__init__(self, MetricList(name), field)
            """,
            "heavy": """
                from clara_core import Loss

                class LazyLoss(Loss):
                    pass
            """,
        },
    },
    "fx-beta": {
        "entry_points": {"clara.losses": {"FxLoss": "fx_beta.losses:FxLoss"}},
        "modules": {"losses": """
            from clara_core import Loss

            class FxLoss(Loss):
                '''Beta's loss.'''
        """},
    },
    "fx-broken": {
        "entry_points": {"clara.losses": {"BrokenLoss": "fx_broken.losses:BrokenLoss"}},
        "modules": {"losses": """
            import a_module_that_does_not_exist  # noqa: F401
        """},
    },
    "fx-hook": {
        "entry_points": {"clara.plugins": {"fx_hook": "fx_hook.plugin"}},
        "modules": {
            "plugin": """
                from clara_core.hookspecs import hookimpl

                @hookimpl
                def clara_register_components():
                    return [("loss", "HookLoss", "fx_hook.losses:HookLoss")]
            """,
            "losses": """
                from clara_core import Loss

                class HookLoss(Loss):
                    pass
            """,
        },
    },
}


def _write_dist(root: Path, name: str, spec: dict[str, object]) -> Path:
    pkg = name.replace("-", "_")
    src = root / "src" / name
    (src / pkg).mkdir(parents=True)
    eps = "".join(
        f'\n[project.entry-points."{group}"]\n' + "".join(f'{k} = "{v}"\n' for k, v in items.items())
        for group, items in spec["entry_points"].items()  # type: ignore[union-attr]
    )
    (src / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [build-system]
        requires = ["setuptools>=64"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{name}"
        version = "1.2.3"
        """) + eps)
    (src / pkg / "__init__.py").write_text("")
    for mod, code in spec["modules"].items():  # type: ignore[union-attr]
        (src / pkg / f"{mod}.py").write_text(textwrap.dedent(code))
    return src


@pytest.fixture(scope="session")
def fixture_dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """name -> folder holding that distribution installed by pip (real dist-info)."""
    root = tmp_path_factory.mktemp("dists")
    out = {}
    for name, spec in FIXTURE_DISTS.items():
        src = _write_dist(root, name, spec)
        target = root / "site" / name
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--disable-pip-version-check", "--target", str(target),
             str(src)],
            check=True, capture_output=True,
        )
        out[name] = str(target)
    return out


def run_clara(*args: str, paths: list[str] = (), cwd: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``clara`` command (as ``python -m clara_core``) with extra sys.path dirs."""
    environ = dict(os.environ, **(env or {}))
    environ["PYTHONPATH"] = os.pathsep.join([*paths, environ.get("PYTHONPATH", "")]).strip(
        os.pathsep)
    return subprocess.run([sys.executable, "-m", "clara_core", *args], capture_output=True,
                          text=True, cwd=cwd, env=environ, timeout=300)
