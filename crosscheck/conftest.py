"""Cross-checks against implementations nobody here wrote: MONAI (PyTorch) and SimpleITK.

Run with ``nox -s crosscheck`` (installs CPU PyTorch and MONAI); not part of the
default test run, which must not need PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("monai")


@pytest.fixture
def seg_batch():
    """Logits (2, 3, 2D or 3D) and labels with class 2 absent from the first case."""
    def make(spatial=(6, 7, 5), seed=0):
        rng = np.random.default_rng(seed)
        logits = rng.normal(scale=2.0, size=(2, 3, *spatial)).astype(np.float32)
        labels = rng.integers(0, 3, size=(2, 1, *spatial))
        labels[0][labels[0] == 2] = 1  # an empty class
        return logits, labels.astype(np.float32)
    return make


def pytest_configure(config: pytest.Config) -> None:
    # MONAI warns on every empty class; the empty cases are deliberate here
    config.addinivalue_line("filterwarnings",
                            "ignore:the (ground truth|prediction) of class:UserWarning")
