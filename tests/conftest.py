"""Shared fixtures: small plugin distributions installed for real with pip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

#: an MMAR's custom/ code written against the SDK's module names: data, not tests
collect_ignore_glob = ["automl_configs/*"]

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
    "fx-events": {  # listens to runs: writes each event as a JSON line to $FX_EVENTS_LOG
        "entry_points": {"clara.plugins": {"listener": "fx_events.plugin"}},
        "modules": {"plugin": """
            import json
            import os

            from clara_core.hookspecs import hookimpl

            def record(hook, **values):
                with open(os.environ["FX_EVENTS_LOG"], "a") as f:
                    f.write(json.dumps({"hook": hook, **values}) + "\\n")
                if os.environ.get("FX_EVENTS_RAISE") == f"{hook}:{values.get('epoch')}":
                    raise RuntimeError("the listener broke on purpose")

            @hookimpl
            def clara_trackers():
                return ["fxtrack"]

            @hookimpl
            def clara_train_started(run, config):
                record("clara_train_started", resumed=run.resumed, epochs=config["epochs"],
                       tracking=list(run.tracking), plugin_dir=run.plugin_dir)

            @hookimpl
            def clara_epoch_ended(metrics, epoch):  # any subset, any order
                record("clara_epoch_ended", epoch=epoch, metrics=metrics)

            @hookimpl
            def clara_validation_ended(epoch, metrics):
                record("clara_validation_ended", epoch=epoch, metrics=metrics)

            @hookimpl
            def clara_checkpoint_saved(path, kind):
                record("clara_checkpoint_saved", kind=kind, exists=os.path.exists(path))

            @hookimpl
            def clara_train_ended(run, result):
                record("clara_train_ended", epochs=len(result.losses),
                       interrupted=result.interrupted, error=result.error)

            @hookimpl
            def clara_validate_started(run):
                record("clara_validate_started", command=run.command)

            @hookimpl
            def clara_case_validated(case, metrics):
                record("clara_case_validated", case=case, metrics=metrics)

            @hookimpl
            def clara_validate_ended(metrics):
                record("clara_validate_ended", metrics=metrics)

            @hookimpl
            def clara_infer_started(inputs):
                record("clara_infer_started", inputs=inputs)

            @hookimpl
            def clara_case_inferred(case, output, error):
                record("clara_case_inferred", case=case, written=output is not None, error=error)

            @hookimpl
            def clara_infer_ended(result):
                record("clara_infer_ended", result=result)
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


@pytest.fixture(autouse=True)
def _own_search_paths() -> Any:
    """Each test starts with the ``sys.path`` it found: an MMAR's ``custom/`` folder that
    a test (or an in-process ``clara``) put there, and the modules imported from it, are
    forgotten afterwards, as they would be with the process that ran it."""
    from clara_core.registry import paths as registry_paths

    saved = list(sys.path)
    yield
    _forget_search_paths(set(sys.path) - set(saved), registry_paths)
    sys.path[:] = saved


@pytest.fixture(scope="session")
def trained_mmar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small MMAR (3 generated cases) trained for 2 epochs by the real ``clara train``,
    shared by every test that needs a finished run. Read it; to change it, copy it
    (``trained_copy``)."""
    from train_mmar import make_train_mmar

    root = make_train_mmar(tmp_path_factory.mktemp("trained") / "mmar", cases=3, epochs=2)
    out = run_clara("train", "-m", str(root), "--no-progress")
    assert out.returncode == 0, out.stdout + out.stderr
    return root


@pytest.fixture
def trained_copy(trained_mmar: Path, tmp_path: Path) -> Path:
    """A copy of ``trained_mmar`` of this test's own."""
    copy = tmp_path / "mmar"
    shutil.copytree(trained_mmar, copy)
    return copy


def run_clara(*args: str, paths: Sequence[str] = (), cwd: str | None = None,
              env: dict[str, str] | None = None,
              isolated: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real ``clara`` command; its exit code, stdout and stderr.

    In this process (``clara_core.cli.main``, as the console script calls it) unless
    ``isolated`` or ``paths`` (extra ``sys.path`` folders: other installed
    distributions) ask for a process of its own, as ``python -m clara_core``. A test
    that is about processes (signals, TensorFlow's start-up configuration, a cluster)
    passes ``isolated=True``; the others skip a TensorFlow import per call.
    """
    if isolated or paths:
        environ = dict(os.environ, **(env or {}))
        environ["PYTHONPATH"] = os.pathsep.join([*paths, environ.get("PYTHONPATH", "")]).strip(
            os.pathsep)
        return subprocess.run([sys.executable, "-m", "clara_core", *args], capture_output=True,
                              text=True, cwd=cwd, env=environ, timeout=300)
    return run_in_process(list(args), cwd=cwd, env=env)


def run_in_process(args: list[str], cwd: str | None = None,
                   env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``clara ARGS`` through ``clara_core.cli.main`` in this process, leaving the process
    as it found it: environment, working folder, ``sys.path`` (an MMAR's ``custom/``) and
    the modules imported from there, Keras' global state. An exception escaping ``main``
    is printed as the traceback a user would have seen."""
    import contextlib
    import io
    import traceback

    from clara_core.cli import main
    from clara_core.registry import paths as registry_paths

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd, saved_path = dict(os.environ), os.getcwd(), list(sys.path)
    os.environ.update(env or {})
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 (a user would have seen it)
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        _forget_search_paths(set(sys.path) - set(saved_path), registry_paths)
        sys.path[:] = saved_path
        _reset_keras()
    return subprocess.CompletedProcess(["clara", *args], code, out.getvalue(), err.getvalue())


def _forget_search_paths(added: set[str], registry_paths: Any) -> None:
    """Unload the modules a run imported from folders it put on ``sys.path``."""
    for folder in added:
        registry_paths._CUSTOM_DIRS.discard(folder)
        for name, module in list(sys.modules.items()):
            where = getattr(module, "__file__", None) or ""
            if where.startswith(folder + os.sep):
                del sys.modules[name]


def _reset_keras() -> None:
    """Keras' global state back to a fresh process's (name counters, policy)."""
    if "keras" in sys.modules:
        import keras

        keras.backend.clear_session()
        keras.mixed_precision.set_global_policy("float32")
