"""The cross-examination pages run after the chapters whose runs they read, before the
summary, and rerun when a chapter's verdicts change (not when their own do)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grokpaper.book import runner
from grokpaper.book.notebooks import discover, stage
from tests.test_runner import TINY, make_layout


def test_cross_pages_run_after_the_chapters_and_before_the_summary(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"summary": TINY, "cross/yardstick": TINY,
                                    "carvalho/fig3b": TINY, "liu/fig2": TINY, "zeta": TINY})
    assert [nb.name for nb in discover(layout)] == [
        "carvalho/fig3b", "liu/fig2", "zeta", "cross/yardstick", "summary"]
    assert [stage(n) for n in ("liu/fig2", "cross/yardstick", "summary")] == [0, 1, 2]
    assert stage("crossing/x") == 0  # the folder "cross/", not any name starting "cross"


def test_a_cross_page_hashes_the_chapters_verdicts_not_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = make_layout(tmp_path, {"cross/yardstick": TINY})
    [nb] = discover(layout)

    def digest() -> str:
        return runner.input_hash(nb, "smoke", {}, layout)

    base = digest()
    folder = tmp_path / "store" / "verdicts" / "smoke"
    folder.mkdir(parents=True)
    (folder / "cross__yardstick.json").write_text("[]")
    assert digest() == base  # its own verdicts are its output
    (folder / "liu__fig2.json").write_text("[]")
    with_chapter = digest()
    assert with_chapter != base  # a chapter that (re)ran: its runs may have changed
    (folder / "liu__fig2.json").write_text('[{"verdict": "supported"}]')
    assert digest() != with_chapter
