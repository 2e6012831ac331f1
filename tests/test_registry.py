import sys

import pytest
from conftest import run_clara

from clara_core import Registry
from clara_core.errors import RegistryError


@pytest.fixture
def registry_for(fixture_dists, monkeypatch):
    def make(*names):
        dirs = [fixture_dists[n] for n in names]
        for d in dirs:
            monkeypatch.syspath_prepend(d)
        return Registry(paths=dirs)
    return make


def test_discovery_reads_metadata_only(fixture_dists):
    code = ("import sys; from clara_core import Registry; r = Registry(); "
            "names = [e.name for e in r.entries('loss')]; "
            "print(sorted(names), 'fx_alpha.heavy' in sys.modules, 'tensorflow' in sys.modules)")
    import os
    import subprocess
    env = dict(os.environ, PYTHONPATH=fixture_dists["fx-alpha"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "'FxLoss'" in out and "'LazyLoss'" in out
    assert out.strip().endswith("False False")


def test_resolve_imports_on_use(registry_for):
    registry = registry_for("fx-alpha")
    cls = registry.resolve("loss", "LazyLoss")
    assert cls.__module__ == "fx_alpha.heavy"
    entry = registry.find("loss", "LazyLoss")
    assert (entry.distribution, entry.version) == ("fx-alpha", "1.2.3")


def test_collision_names_both_distributions_and_qualified_spelling(registry_for):
    registry = registry_for("fx-alpha", "fx-beta")
    with pytest.raises(RegistryError) as err:
        registry.resolve("loss", "FxLoss")
    msg = str(err.value)
    assert "fx-alpha 1.2.3" in msg and "fx-beta 1.2.3" in msg
    assert "'fx-alpha:FxLoss' or 'fx-beta:FxLoss'" in msg
    assert registry.resolve("loss", "fx-beta:FxLoss").__doc__ == "Beta's loss."
    assert registry.resolve("loss", "fx_alpha:FxLoss").__doc__ == "Alpha's loss."


def test_broken_plugin_reports_distribution_entry_point_and_error(registry_for):
    registry = registry_for("fx-broken")
    assert [e.name for e in registry.entries("loss")] == ["BrokenLoss"]  # listing still works
    with pytest.raises(RegistryError) as err:
        registry.resolve("loss", "BrokenLoss")
    msg = str(err.value)
    assert "fx-broken 1.2.3" in msg
    assert "BrokenLoss = fx_broken.losses:BrokenLoss" in msg
    assert "No module named 'a_module_that_does_not_exist'" in msg
    assert "fx_broken/losses.py:2" in msg


def test_pluggy_hook_registers_components(registry_for):
    registry = registry_for("fx-hook")
    entry = registry.find("loss", "HookLoss")
    assert entry.source == "hook" and entry.distribution == "fx-hook"
    assert registry.resolve("loss", "HookLoss").__name__ == "HookLoss"


def test_unknown_name_close_matches_and_wrong_kind(registry_for):
    registry = registry_for("fx-alpha")
    with pytest.raises(RegistryError, match=r"Unknown loss 'FxLos' \(searched entry-point group "
                                            r"clara.losses\). Did you mean 'FxLoss'\?"):
        registry.find("loss", "FxLos")
    with pytest.raises(RegistryError, match="'FxMetric' is a metric, not a loss"):
        registry.find("loss", "FxMetric")


def test_names_only_policy_checks_the_real_module(tmp_path, monkeypatch):
    from clara_core.registry.paths import Policy

    (tmp_path / "trusted_pkg").mkdir()
    (tmp_path / "trusted_pkg" / "__init__.py").write_text("from os import system\n"
                                                          "class Good: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry(paths=[str(tmp_path)],
                        policy=Policy(names_only=True, trusted_modules=("trusted_pkg",)))
    assert registry.resolve_path("trusted_pkg.Good").__name__ == "Good"
    with pytest.raises(RegistryError, match="defined in 'posix'|defined in 'nt'"):
        registry.resolve_path("trusted_pkg.system")  # the string looks trusted, the object is not
    with pytest.raises(RegistryError, match="names-only policy is on"):
        registry.resolve_path("os.system")


def test_cli_list_json_and_collision_marker(fixture_dists):
    import json

    out = run_clara("components", "list", "--kind", "loss", "--json",
                    paths=[fixture_dists["fx-alpha"], fixture_dists["fx-beta"]])
    assert out.returncode == 0, out.stderr
    rows = [r for r in json.loads(out.stdout) if r["name"] == "FxLoss"]
    assert {r["distribution"] for r in rows} == {"fx-alpha", "fx-beta"}
    assert all(r["collision"] for r in rows)


def test_cli_show_prints_signature_and_docstring(fixture_dists):
    out = run_clara("components", "show", "FxLoss", paths=[fixture_dists["fx-alpha"]])
    assert out.returncode == 0, out.stderr
    assert "FxLoss(weight: float = 1.0)" in out.stdout
    assert "Alpha's loss." in out.stdout and "fx_alpha/losses.py" in out.stdout
