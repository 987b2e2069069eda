"""scripts/check_site.py: the browser check finds what a reader would see broken."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from grokpaper.core.paths import REPO_ROOT

spec = importlib.util.spec_from_file_location("check_site", REPO_ROOT / "scripts" / "check_site.py")
check_site = importlib.util.module_from_spec(spec)
sys.modules["check_site"] = check_site
spec.loader.exec_module(check_site)

GOOD = "<html><body><h1>ok</h1><img src='pic.svg'></body></html>"
BAD = ("<html><body><img src='missing.png'><script>console.error('boom')</script>"
       "<img src='https://example.invalid/x.png'></body></html>")
#: What Jupyter Book writes as index.html when the root page has another name.
REDIRECT = ('<!DOCTYPE html><html><head><meta http-equiv="Refresh" content="0; url=landing.html" />'
            '</head></html>')
SVG = "<svg xmlns='http://www.w3.org/2000/svg' width='4' height='4'></svg>"


def _site(root: Path, pages: dict[str, str]) -> Path:
    for name, html in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(html)
        (root / name).with_name("pic.svg").write_text(SVG)
    return root


def test_pages_lists_chapters_landing_first_without_theme_files(tmp_path: Path) -> None:
    site = _site(tmp_path, {"a/x.html": GOOD, "index.html": GOOD, "search.html": GOOD,
                            "_static/t.html": GOOD})
    assert [p.relative_to(site).as_posix() for p in check_site.pages(site)] == [
        "index.html", "a/x.html"]


def test_missing_site_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert check_site.main([str(tmp_path / "nothing")]) == 2
    assert "build the book first" in capsys.readouterr().err


needs_browser = pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or check_site.find_browser(None) is None,
    reason="needs the playwright package and a Chromium (pip install -e '.[check]', "
           "apt install chromium)")


@needs_browser
@pytest.mark.parametrize("index", [GOOD, REDIRECT], ids=["index", "redirecting-index"])
def test_broken_pages_fail_and_good_ones_pass(tmp_path: Path, capsys: pytest.CaptureFixture,
                                              index: str) -> None:
    # Jupyter Book's index.html redirects to the landing page: the check must follow it.
    good = _site(tmp_path / "good", {"index.html": index, "landing.html": GOOD,
                                     "ch/one.html": GOOD})
    shot = tmp_path / "landing.png"
    assert check_site.main([str(good), "--screenshot", str(shot)]) == 0
    assert shot.stat().st_size > 0
    bad = _site(tmp_path / "bad", {"index.html": index, "landing.html": GOOD,
                                   "ch/two.html": BAD})
    assert check_site.main([str(bad), "--screenshot", str(shot)]) == 1
    out = capsys.readouterr().out
    assert "ch/two.html: console error: boom" in out
    assert "broken image" in out and "missing.png" in out
    assert "outside host: https://example.invalid/x.png" in out
