"""Sessions: tests (the fast tier), slow (the slow tier), lint, typecheck, demo (train the
example MMAR), bench, crosscheck."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.sessions = ["tests", "slow", "lint", "typecheck"]
nox.options.default_venv_backend = "venv"

ROOT = Path(__file__).parent
PLUGINS = sorted(str(p) for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
PACKAGES = ["clara_core"] + [
    Path(p).name.replace("-", "_") for p in PLUGINS
]
EXAMPLE = ROOT / "examples" / "brain-tissue-seg"


def install_clara(session: nox.Session, *extra: str) -> None:
    """clara-core and every plugin distribution, as real (non-editable) installs."""
    session.install(str(ROOT), *PLUGINS, *extra)


TEST_DEPS = ("pytest>=8", "setuptools>=64", "nilearn>=0.10", "jsonschema>=4", "pydicom>=2.4",
             "tf2onnx>=1.16", "onnxruntime>=1.17")
#: pytest's report of the slowest tests, so they stay visible in every run
DURATIONS = "--durations=15"


def run_pytest(session: nox.Session, *args: str) -> None:
    """The repository's tests and every plugin's, with ``args`` (a marker selection)."""
    plugin_tests = [str(Path(p) / "tests") for p in PLUGINS]
    session.run("pytest", "tests", *plugin_tests, DURATIONS, *args, *session.posargs)


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The fast tier: unit, conformance, doctest and in-process end-to-end tests of core and
    every plugin, one real ``clara train`` among them (``nox -s slow`` runs the rest)."""
    install_clara(session, *TEST_DEPS)
    run_pytest(session, "-m", "not slow")
    # doctests of the installed packages, as users import them
    session.run("pytest", "--doctest-modules", "--pyargs", *PACKAGES, "-p", "no:cacheprovider",
                "-o", "testpaths=", "-o", "addopts=")


@nox.session(python="3.11")
def slow(session: nox.Session) -> None:
    """The slow tier (``@pytest.mark.slow``): tests that start processes of their own
    (signals, kill -9, clusters, pip installs) or train many runs. CI runs both tiers."""
    # the full mlflow (not the plugin's mlflow-skinny) for the tests that start a server
    install_clara(session, *TEST_DEPS, "mlflow>=3.5,<4")
    run_pytest(session, "-m", "slow")


@nox.session(python="3.11")
def crosscheck(session: nox.Session) -> None:
    """Losses and metrics against MONAI (CPU PyTorch) and SimpleITK: crosscheck/."""
    install_clara(session, "pytest>=8", "torch==2.13.0", "monai>=1.4", "scipy")
    session.run("pytest", "crosscheck", "-p", "no:cacheprovider", "-o", "pythonpath=",
                "-o", "addopts=", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "src", "plugins", "tests", "benchmarks", "examples",
                "crosscheck", "tools", "noxfile.py")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    install_clara(session, "mypy", "pytest>=8")  # the kit's pytest plugin is typed against pytest
    session.run("mypy", "src/clara_core")


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """Prepare the brain-tissue example from nilearn's MNI152 files, check it and train it."""
    install_clara(session, "nilearn>=0.10")
    session.run("python", str(EXAMPLE / "prepare.py"))
    session.run("clara", "components", "list")
    session.run("clara", "config", "check", "-m", str(EXAMPLE))
    session.run("clara", "train", "-m", str(EXAMPLE), *session.posargs)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Run every benchmark; each prints one JSON line (MONAI is a baseline of metrics.py;
    gpu_check.py trains the brain example, prepared here)."""
    install_clara(session, "torch==2.13.0", "monai>=1.4", "scipy", "nilearn>=0.10")
    session.run("python", str(EXAMPLE / "prepare.py"))
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        session.run("python", str(script), *session.posargs)
