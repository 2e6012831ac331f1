"""Every ``python`` block of the BYOC guide and the data page runs, page by page, in order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

PAGES = sorted((REPO / "docs" / "byoc").glob("*.md")) + [REPO / "docs" / "data.md"]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_guide_has_a_page_per_kind_in_the_seeds_order():
    names = [p.stem for p in PAGES if p.stem[0].isdigit()]
    assert names == ["01-data-pipeline", "02-transform", "03-data-loader", "04-model",
                     "05-loss", "06-optimizer", "07-metric", "08-run-events"]
    assert "docs/byoc/README.md" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_examples_run(page: Path):
    blocks = BLOCK.findall(page.read_text())
    assert blocks or page.name == "README.md", f"{page.name} has no python example"
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    for code in blocks:
        exec(compile(code, str(page), "exec"), namespace)  # noqa: S102 - our own docs
