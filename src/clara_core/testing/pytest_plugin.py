"""The conformance kit as a pytest plugin (entry point ``pytest11``: ``clara``).

Installed with clara-core, so in any plugin's tests:

- ``conformance_tests([...])`` / ``@parametrize_with_checks([...])`` give one test
  per (component, check), ids ``Component-check_name``;
- ``--clara-checks=NAME[,NAME]`` runs only those checks (e.g. while fixing one);
- the ``clara_registry`` fixture is the registry of installed components;
- the report header lists the kit's checks.
"""

from __future__ import annotations

from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("clara", "Clara BYOC conformance kit")
    group.addoption("--clara-checks", default="", metavar="NAMES",
                    help="comma-separated conformance checks to run (default: all)")


def pytest_report_header(config: pytest.Config) -> str:
    from clara_core.testing import checks

    names = sorted(n for n in vars(checks) if n.startswith("check_"))
    return "clara conformance kit: " + ", ".join(names)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = {n.strip() for n in config.getoption("--clara-checks").split(",") if n.strip()}
    if not wanted:
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        check = callspec.params.get("check") if callspec is not None else None
        name = getattr(getattr(check, "func", check), "__name__", None)
        (dropped if check is not None and name not in wanted else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(scope="session")
def clara_registry() -> Any:
    """The registry of installed components (entry points read once per session)."""
    from clara_core.registry.registry import Registry

    return Registry()
