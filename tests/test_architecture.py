"""The house rules, read off the source: layers, no import cycles, short modules and
functions, contracts asked rather than probed."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

CORE = REPO / "src" / "clara_core"
PACKAGES = [CORE, *(p for p in (REPO / "plugins").glob("*/src/*") if p.is_dir())]

#: clara_core's layers, lowest first: a module imports only from its own layer or below
LAYERS = [
    {"errors", "suggest", "atomic", "arguments", "hookspecs"},
    {"image"},
    {"components"},
    {"mmar"},
    {"registry"},
    {"config"},
    {"data", "builtins"},
    {"workflow"},
    {"automl", "plan"},
    {"cli", "testing", "scaffold"},
]
RANK = {unit: i for i, units in enumerate(LAYERS) for unit in units}
#: functions allowed past 60 lines: the Numba kernels, one compiled unit by design
LONG_FUNCTIONS = {("resampler.py", "_kernels")}


def modules(root: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*.py")):
        if "build" in path.relative_to(root).parts:
            continue
        parts = path.relative_to(root.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(name: str, path: Path) -> set[str]:
    """Every ``clara_core`` module ``path`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return {m for m in found if m.startswith("clara_core.") and _exists(m)}


def _exists(module: str) -> bool:
    path = REPO / "src" / Path(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def unit(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


GRAPH = {name: imports(name, path) for name, path in modules(CORE)}


def test_every_core_unit_has_a_layer():
    units = {unit(name) for name in GRAPH} - {"", "__main__"}
    assert units <= set(RANK), f"give {sorted(units - set(RANK))} a layer in LAYERS"


def test_no_import_reaches_a_higher_layer():
    upward = sorted((name, target) for name, targets in GRAPH.items() for target in targets
                    if unit(name) in RANK and RANK[unit(target)] > RANK[unit(name)])
    assert not upward, upward


def test_no_import_cycle():
    seen: dict[str, int] = {}  # 1 while on the path, 2 when done

    def visit(name: str, path: list[str]) -> None:
        seen[name] = 1
        for target in sorted(GRAPH.get(name, ())):
            if seen.get(target) == 1 and not name.startswith(target + "."):
                pytest.fail("import cycle: " + " -> ".join([*path, name, target]))
            if target not in seen:
                visit(target, [*path, name])
        seen[name] = 2

    for name in sorted(GRAPH):
        if name not in seen:
            visit(name, [])


@pytest.mark.parametrize("root", PACKAGES, ids=lambda p: p.name)
def test_modules_and_functions_stay_short(root):
    long = []
    for name, path in modules(root):
        text = path.read_text()
        if text.count("\n") > 400:
            long.append(f"{name}: {text.count(chr(10))} lines (at most 400)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > 60 and (path.name, node.name) not in LONG_FUNCTIONS:
                    long.append(f"{name}.{node.name}: {size} lines (at most 60)")
    assert not long, long


def test_core_asks_contracts_and_never_probes_them():
    """A contract the engine calls is declared on its base class (DESIGN.md section 8)."""
    probes = [f"{path.relative_to(REPO)}:{node.lineno}"
              for _, path in modules(CORE) for node in ast.walk(ast.parse(path.read_text()))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id == "hasattr"]
    assert not probes, probes
