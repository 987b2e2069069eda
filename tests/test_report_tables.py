"""The tables the pages show: "paper says / we use" (one builder for every chapter), the MNIST
Table 3 comparison, and the HTML they become."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from grokpaper.carvalho import design as carvalho_design
from grokpaper.carvalho.experiments import ShiftSweep
from grokpaper.core import profiles, report
from grokpaper.lisakib import report as lisakib_report
from grokpaper.liu import experiments as liu
from grokpaper.liu import report as liu_report
from grokpaper.mnist import experiments as mnist
from grokpaper.mnist import report as mnist_report

WINGS = (carvalho_design.NOTES, liu_report.NOTES, mnist_report.NOTES, lisakib_report.NOTES)
NOTES = {figure: notes for wing in WINGS for figure, notes in wing.items()}
HERE = "this page ({})"


def _table(figure: str, profile: str) -> pd.DataFrame:
    params = profiles.resolve(figure, profiles.params_class(figure), profile)
    return report.paper_says_table(params, profile=profile, figure=figure,
                                   notes=NOTES[figure]).data


def test_every_figure_has_notes_in_exactly_one_wing():
    assert sum(len(w) for w in WINGS) == len(NOTES)  # no figure in two wings
    assert set(NOTES) == set(profiles.figures())


@pytest.mark.parametrize("figure", profiles.figures())
@pytest.mark.parametrize("profile", profiles.PROFILE_NAMES)
def test_table_shows_every_parameter_its_profile_changes(figure, profile):
    """A reader finds every scaled-down value in the last column, marked "(changed)"."""
    cls = profiles.params_class(figure)
    paper, params = (profiles.resolve(figure, cls, p) for p in ("paper", profile))
    changed = {f.name for f in dataclasses.fields(cls)
               if getattr(params, f.name) != getattr(paper, f.name)}
    not_shown = ({n for n, only in carvalho_design.ONLY_FOR.items() if only != paper.model}
                 & changed if cls is ShiftSweep else set())
    table = _table(figure, profile)
    marked = {p.strip("`") for p, here in zip(table["parameter"], table[HERE.format(profile)],
                                              strict=True) if here.endswith(" (changed)")}
    assert marked == changed - not_shown
    # Left out: only the other model's rows (Carvalho's MLP width on a transformer page, used
    # by its MLP comparison runs).
    assert not_shown <= ({"hidden"} if getattr(paper, "model", None) == "transformer" else set())


def test_we_use_column_is_the_figures_paper_profile_not_the_dataclass_defaults():
    # Fig. 3a's paper profile runs the balanced datasets (f = 1) only; the dataclass default
    # is every f of the shift figures.
    assert ShiftSweep().fs == (0.0, 0.01, 0.05, 0.2, 1.0)
    table = _table("carvalho.fig3a", "paper").set_index("parameter")
    assert table.loc["`fs`", "we use (paper profile)"] == "`1`"
    assert not table[HERE.format("paper")].str.contains("changed").any()
    smoke = _table("carvalho.fig3a", "smoke").set_index("parameter")
    assert smoke.loc["`fs`", HERE.format("smoke")] == "`1`"
    assert smoke.loc["`steps`", HERE.format("smoke")] == "`60` (changed)"
    assert smoke.loc["`steps`", "we use (paper profile)"] == "`50000`"


def test_paper_column_computed_from_the_profile_table_directly():
    """The same value two ways: resolve() against the raw PROFILES entry on the defaults."""
    for figure in profiles.figures():
        cls = profiles.params_class(figure)
        raw = dataclasses.replace(cls(), **profiles.overrides(figure)["paper"])
        table = _table(figure, "smoke")
        for name, ours in zip(table["parameter"], table["we use (paper profile)"], strict=True):
            assert ours == f"`{report.format_value(getattr(raw, name.strip('`')))}`"


def test_notes_must_name_parameters_of_the_page():
    params = profiles.resolve("liu.fig2", liu.Representations, "smoke")
    with pytest.raises(ValueError, match="no parameter"):
        report.paper_says_table(params, profile="smoke", figure="liu.fig2",
                                notes={"stepz": ("typo", "typo")})


def test_table_is_real_html_without_index_and_with_escaped_text():
    params = profiles.resolve("liu.fig2", liu.Representations, "smoke")
    notes = {"steps": ("<b>not</b> given & `steps = 1e4`", "why | not"), "p": ("p = 11", "ok")}
    html = report.paper_says_table(params, profile="smoke", figure="liu.fig2",
                                   notes=notes).to_html()
    assert html.count("<tr>") == 1 + len(notes)
    assert "&lt;b&gt;not&lt;/b&gt; given &amp; <code>steps = 1e4</code>" in html
    assert "<b>" not in html and "`" not in html
    assert "row_heading" not in html and ">0<" not in html  # no 0, 1, 2 index
    assert '<code>20000</code>' in html and '<code>steps</code>' in html
    assert ">this page (smoke)<" in html


@pytest.mark.parametrize(("value", "shown"), [
    ((16,), "16"), ((500, 2000), "500, 2000"), (1e-3, "0.001"), (1e-5, "1e-05"),
    (50_000, "50000"), (None, "None"), (True, "True"), ("adam", "adam"), ((), "()"),
    (tuple(float(x) for x in np.geomspace(1e-5, 1e-2, 16)), "16 values 1e-05 … 0.01"),
    (tuple("abcdefg"), "7 values (a … g)"),
])
def test_format_value(value, shown):
    assert report.format_value(value) == shown


def test_table3_outcomes_put_the_reports_row_next_to_ours():
    df = pd.DataFrame({"row": ["1K (original)", "cross-entropy"],
                       "outcome": ["grokking", "normal"], "delay": [2500.0, np.nan],
                       "t_mem": [400.0, None], "test_at_mem": [0.41234, np.nan],
                       "test_end": [0.8851, 0.9]})
    out = mnist_report.table3_outcomes(df)
    theirs = {name: (groks, comment) for name, _, groks, comment in mnist.TABLE3}
    assert list(out["theirs: grokked?"]) == [
        "yes" if theirs[r][0] else "no" for r in df["row"]] == ["yes", "no"]
    assert list(out["their comment"]) == [theirs[r][1] for r in df["row"]]
    assert out.iloc[0][["delay (steps)", "t_mem", "test at t_mem", "final test"]].tolist() == [
        "2,500", "400", "0.412", "0.885"]
    assert out.iloc[1][["delay (steps)", "t_mem", "test at t_mem"]].tolist() == ["–"] * 3
    assert "<td" in report.html_table(out).to_html()
