"""scripts/check_site.py: the browser check finds what a reader would see broken."""

from __future__ import annotations

import importlib.util
import re
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


#: Source a reader must never see, as a page would show it -> the kind of problem it is.
TABLE, TEX, DOLLARS = "Markdown table source", "TeX source", "TeX math in dollars"
SOURCE_FAULTS = {
    "| a | b |\n|---|---|": TABLE,
    "| parameter | paper says | |—|—| | lr | 1e-3 |": TABLE,  # smart quotes made --- a dash
    "before | x | y | after": TABLE,
    r"the grokking rate \(\lambda": TEX,
    r"rate 3\) and": TEX,
    r"\[ x": TEX,
    r"S = [support\_start": TEX,
    "$$ x": TEX,
    r"a rate \lambda": TEX,
    "x_{k,1} on the axis": TEX,
    "Run: 45 samples, $3 n_h$ = 100 steps": DOLLARS,
}
#: Text that only looks like source: an absolute value, a single pipe, prices, snake_case.
CLEAN_TEXT = ("|S| ≥ 2(α₁ − α₀) and |a| + |b|; train | test; costs $5 or $10; support_start; "
              "t_train / t_test; λ₃ = 0.05; 3 nₕ steps; a 2 x 2 grid")


@pytest.mark.parametrize(("text", "kind"), SOURCE_FAULTS.items())
def test_markdown_or_tex_source_in_visible_text_is_a_problem(text: str, kind: str) -> None:
    (problem,) = check_site.source_problems(f"Some prose. {text} More prose.")
    assert re.match(rf"{kind} \(\d+x\), e\.g\. \.\.\.", problem)
    assert " ".join(text.split()) in problem  # the snippet shows the source, on one line


def test_clean_text_has_no_source_problems() -> None:
    assert check_site.source_problems(CLEAN_TEXT) == []


def test_a_source_problem_names_its_kind_count_and_snippet() -> None:
    text = "intro\n| a | b |\n|---|---|\n| 1 | 2 |\nend"
    (problem,) = check_site.source_problems(text)
    assert problem.startswith("Markdown table source (")
    assert "| a | b |" in problem and "\n" not in problem


#: A page a reader sees rendered: a real table, plain-text maths, source only where it is meant
#: to be (a code block) or not shown at all.
CLEAN_PAGE = ("<html><head><title>Fig. 5: the grokking rate λ₃</title></head><body>"
              f"<p>{CLEAN_TEXT}</p><table><tr><th>parameter</th><th>paper says</th></tr>"
              "<tr><td><code>lr</code></td><td>1e-3</td></tr></table>"
              "<pre>print(f'| {a} | {b} |', r'\\lambda')</pre>"
              "<div style='display:none'>$$ hidden $$</div></body></html>")
#: The same page as Jupyter Book built it from Markdown outputs rendered as CommonMark.
SOURCE_PAGE = ("<html><head><title>Fig. 5: the grokking rate \\(\\lambda_3\\)</title></head><body>"
               "<p>| parameter | paper says | |—|—| | <code>lr</code> | 1e-3 |</p>"
               "<p>S = [support\\_start, support\\_end]</p></body></html>")


@needs_browser
def test_visible_markdown_or_tex_source_fails_the_site(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    shot = tmp_path / "landing.png"
    good = _site(tmp_path / "good", {"index.html": GOOD, "ch/clean.html": CLEAN_PAGE})
    assert check_site.main([str(good), "--screenshot", str(shot)]) == 0
    capsys.readouterr()
    bad = _site(tmp_path / "bad", {"index.html": GOOD, "ch/source.html": SOURCE_PAGE})
    assert check_site.main([str(bad), "--screenshot", str(shot)]) == 1
    out = capsys.readouterr().out
    assert "ch/source.html: Markdown table source (" in out and "| parameter | paper says" in out
    assert "ch/source.html: TeX source (" in out
    assert "grokking rate \\(\\lambda_3\\)" in out  # the title counts: the browser tab shows it
    assert "index.html:" not in out
