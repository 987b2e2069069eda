"""The landing page's verdict table: counts per study, rows in the papers' order, badges that
spell the verdict out on colours readable with black text, and the well-formedness rule."""

from pathlib import Path

import pytest

from grokpaper.core import studies, summary, verdicts
from grokpaper.core.verdicts import (
    INCONCLUSIVE,
    MEASURED_MAX,
    NOT_RUN,
    NOT_SUPPORTED,
    PARTLY,
    SUPPORTED,
    VERDICTS,
    Verdict,
)

CARVALHO, LIU, LISAKIB, CROSS = (s.name for s in studies.STUDIES)


def _v(paper: str, figure: str, verdict: str = SUPPORTED, **kw) -> Verdict:
    decide = "more steps" if verdict == INCONCLUSIVE else ""
    return Verdict(**{"paper": paper, "figure": figure, "claim": "c", "measured": "m",
                      "verdict": verdict, "page": "x/y", "decide": decide} | kw)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#RRGGBB``."""
    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_badges_spell_the_verdict_on_distinct_colours_readable_in_black():
    assert set(summary.BADGE_COLOURS) == {*VERDICTS, NOT_RUN}
    assert len(set(summary.BADGE_COLOURS.values())) == len(summary.BADGE_COLOURS)
    assert _luminance("#000000") == 0 and _luminance("#FFFFFF") == pytest.approx(1)
    for verdict, colour in summary.BADGE_COLOURS.items():
        html = summary.badge(verdict)
        assert f">{verdict}</span>" in html and colour in html and "color:#000" in html
        assert (_luminance(colour) + 0.05) / 0.05 >= 4.5, verdict  # WCAG AA against black


def test_counts_per_verdict_kind_and_study():
    rows = [_v(CARVALHO, "Fig. 3a"), _v(CARVALHO, "Fig. 4", NOT_SUPPORTED),
            _v(LIU, "Fig. 1", INCONCLUSIVE), _v(LIU, "Fig. 2", INCONCLUSIVE),
            _v("(not run)", "MNIST", NOT_RUN)]
    lines = summary.counts_markdown(rows).splitlines()
    header = lines[0]
    assert "carvalho2025grokking" in header and "liu2022towards" in header
    assert "lisakib_ece826" not in header  # no row, no column
    assert header.rstrip(" |").endswith("all")
    cells = {line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in lines[2:]}
    as_ints = {k: [int(c.strip(" |")) for c in v] for k, v in cells.items()}
    # columns: Carvalho, Liu, the chapter that did not run, all
    assert as_ints[summary.badge(SUPPORTED)] == [1, 0, 0, 1]
    assert as_ints[summary.badge(NOT_SUPPORTED)] == [1, 0, 0, 1]
    assert as_ints[summary.badge(PARTLY)] == [0, 0, 0, 0]
    assert as_ints[summary.badge(INCONCLUSIVE)] == [0, 2, 0, 2]
    assert as_ints[summary.badge(NOT_RUN)] == [0, 0, 1, 1]
    assert as_ints["claims"] == [2, 2, 1, 5]
    assert summary.badge(NOT_RUN) not in summary.counts_markdown(rows[:-1])


def test_table_rows_link_their_page_and_say_what_would_decide(tmp_path: Path):
    (tmp_path / "liu").mkdir()
    (tmp_path / "liu" / "fig7.ipynb").write_text("{}")
    rows = [_v(LIU, "Fig. 1", INCONCLUSIVE, page="liu/fig7", measured="a | b",
               decide="more seeds"),
            _v(LIU, "Fig. 2", page="liu/fig2")]
    lines = summary.table_markdown(rows, tmp_path).splitlines()
    assert len(lines) == 4
    assert "[Fig. 1](liu/fig7.ipynb)" in lines[2] and "a \\| b" in lines[2]
    assert "*To decide:* more seeds" in lines[2] and summary.badge(INCONCLUSIVE) in lines[2]
    assert "[Fig. 2]" not in lines[3] and "To decide" not in lines[3]  # no page, no link


def test_summary_groups_rows_by_study_in_the_books_order(tmp_path: Path):
    rows = [_v(CARVALHO, "Fig. 3a"), _v(LIU, "Fig. 1"), _v(LISAKIB, "Table 1"),
            _v(CROSS, "One yardstick"), _v("(not run)", "MNIST", NOT_RUN)]
    text = summary.summary_markdown(rows, profile="smoke", root=tmp_path)
    keys = [s.key for s in studies.STUDIES if s.key]
    labels = [text.index(f"**{{cite:t}}`{k}`**") for k in keys]
    labels.append(text.index(f"**{CROSS}**"))  # the book's own part: named, not cited
    assert labels == sorted(labels) and text.index("**chapters that did not run**") > labels[-1]
    assert text.index("| Verdict |") < labels[0]  # the counts come first
    assert "run the chapters first" in summary.summary_markdown([], profile="quick",
                                                                root=tmp_path)


def test_paper_position_orders_figures_tables_then_appendices():
    labels = ["Grokking-intensity map", "App. A", "App. A: Fig. 4 (transformer)",
              "App. A: Fig. 3b (transformer)", "Table 1", "MNIST (Sec. 1)", "Fig. 10",
              "Figs. 6-8", "Fig. 6a", "Fig. 6b-d", "Fig. 4c/d", "Fig. 4", "Fig. 2", "App. K",
              "Fig. 8 (left)", "Table 3"]
    assert sorted(labels, key=verdicts.paper_position) == [
        "Fig. 2", "Fig. 4", "Fig. 4c/d", "Figs. 6-8", "Fig. 6a", "Fig. 6b-d", "Fig. 8 (left)",
        "Fig. 10", "Table 1", "Table 3", "MNIST (Sec. 1)", "App. A: Fig. 3b (transformer)",
        "App. A: Fig. 4 (transformer)", "App. A", "App. K", "Grokking-intensity map"]


def test_load_all_keeps_the_recorded_order_within_a_figure(tmp_path: Path):
    verdicts.record("liu/fig7", [_v(LIU, "Fig. 7 left"), _v(LIU, "Fig. 7 centre"),
                                 _v(LIU, "Fig. 1")], profile="smoke", root=tmp_path)
    verdicts.record("carvalho/app", [_v(CARVALHO, "App. A"), _v(CARVALHO, "Fig. 3b")],
                    profile="smoke", root=tmp_path)
    got = [v.figure for v in verdicts.load_all(profile="smoke", root=tmp_path)]
    assert got == ["Fig. 3b", "App. A", "Fig. 1", "Fig. 7 left", "Fig. 7 centre"]


@pytest.mark.parametrize(("kw", "problem"), [
    ({}, None),
    ({"verdict": INCONCLUSIVE, "decide": "more steps"}, None),
    ({"verdict": NOT_RUN}, None),
    ({"measured": "x" * MEASURED_MAX}, None),
    ({"measured": "x" * (MEASURED_MAX + 1)}, f"at most {MEASURED_MAX}"),
    ({"measured": "two\nlines"}, "several lines"),
    ({"measured": " "}, "measured is empty"),
    ({"verdict": INCONCLUSIVE, "decide": ""}, "inconclusive without decide"),
    ({"verdict": PARTLY, "decide": "more steps"}, "not inconclusive"),
    ({"verdict": INCONCLUSIVE, "decide": "y" * 200}, "decide has 200 characters"),
])
def test_problems_name_what_the_landing_page_cannot_show(kw, problem):
    v = Verdict(**{"paper": LIU, "figure": "Fig. 1", "claim": "c", "measured": "m",
                   "verdict": SUPPORTED, "page": "p"} | kw)
    found = verdicts.problems(v)
    assert (found == []) if problem is None else any(problem in p for p in found), found


def test_chapter_list_shows_measured_detail_and_what_would_decide():
    found = [_v(LIU, "Fig. 1", INCONCLUSIVE, claim="claim one", measured="m1", detail="d1",
                decide="more seeds"), _v(LIU, "Fig. 2", claim="claim two", measured="m2")]
    assert verdicts.as_markdown(found).splitlines() == [
        "- **inconclusive**: claim one *Measured:* m1 *In detail:* d1 *What would decide it:* "
        "more seeds",
        "- **supported**: claim two *Measured:* m2"]
