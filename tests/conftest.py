"""Session hooks: tests that read what the notebooks wrote run after them."""

import time

import pytest

#: When the session started: files written before it are left over from an earlier run.
SESSION_START = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[SESSION_START] = time.time()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``make test`` collects tests/ before the notebooks (build/nbval): move the tests of
    modules that set ``AFTER_NOTEBOOKS = True`` to the end of the session."""
    def after(item: pytest.Item) -> bool:
        return bool(getattr(getattr(item, "module", None), "AFTER_NOTEBOOKS", False))

    items[:] = [i for i in items if not after(i)] + [i for i in items if after(i)]
