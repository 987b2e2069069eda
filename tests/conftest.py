"""Shared test setup, and the order of a session: tests that read what the notebooks wrote
run after them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from grokpaper.core import paths

#: When the session started: files written before it are left over from an earlier run.
SESSION_START = pytest.StashKey[float]()


@pytest.fixture(autouse=True)
def _no_fetched_mnist(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> Path:
    """MNIST that a developer fetched into the repository (data/mnist) is invisible to the
    tests: without $GROKPAPER_MNIST they see no MNIST data, as on a fresh clone."""
    folder = tmp_path_factory.mktemp("fetch") / "mnist"
    monkeypatch.setattr(paths, "MNIST_FETCH_DIR", folder)
    return folder


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[SESSION_START] = time.time()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``make test`` collects tests/ before the notebooks (build/nbval): move the tests of
    modules that set ``AFTER_NOTEBOOKS = True`` to the end of the session."""
    def after(item: pytest.Item) -> bool:
        return bool(getattr(getattr(item, "module", None), "AFTER_NOTEBOOKS", False))

    items[:] = [i for i in items if not after(i)] + [i for i in items if after(i)]
