"""Shared test setup."""

from __future__ import annotations

from pathlib import Path

import pytest

from grokpaper.core import paths


@pytest.fixture(autouse=True)
def _no_fetched_mnist(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Path:
    """MNIST that a developer fetched into the repository (data/mnist) is invisible to the
    tests: without $GROKPAPER_MNIST they see no MNIST data, as on a fresh clone."""
    folder = tmp_path_factory.mktemp("fetch") / "mnist"
    monkeypatch.setattr(paths, "MNIST_FETCH_DIR", folder)
    return folder
