"""Tables for readers: no 0, 1, 2 index, numbers rounded per column, real HTML; and every
DataFrame a notebook displays goes through them."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from grokpaper.core import tables


def _cells(df: pd.DataFrame) -> dict[str, list[str]]:
    text = tables.for_readers(df).text
    return {c: list(text[c]) for c in text.columns}


def test_default_index_is_dropped_and_a_named_one_becomes_columns():
    df = pd.DataFrame({"acc": [0.5, 0.25]})
    assert list(tables.for_readers(df).text.columns) == ["acc"]
    assert tables.for_readers(df).labels == []
    named = df.set_index(pd.Index(["a", "b"], name="dataset"))
    assert _cells(named) == {"dataset": ["a", "b"], "acc": ["0.50", "0.25"]}
    multi = pd.DataFrame({"n": [1, 1], "f": [0.0, 0.2], "acc": [0.5, 0.7]}).set_index(["n", "f"])
    assert list(tables.for_readers(multi).text.columns) == ["n", "f", "acc"]
    assert tables.for_readers(multi).labels == ["n", "f"]
    # An index that is not 0, 1, 2 carries information even without a name: kept.
    shifted = pd.DataFrame({"acc": [0.5]}, index=pd.RangeIndex(3, 4))
    assert _cells(shifted) == {"": ["3"], "acc": ["0.5"]}


def test_pivot_table_names_rows_and_columns_in_one_header_and_formats_cells_alike():
    pv = pd.DataFrame({4: [1.0, np.nan], 8: [2.5, 3.25]}, index=pd.Index([21, 10], name="n"))
    pv.columns.name = "batch"
    assert _cells(pv) == {"n ↓ batch →": ["21", "10"], "4": ["1.00", "–"],
                          "8": ["2.50", "3.25"]}
    unnamed_rows = pv.reset_index(drop=True).set_axis(["k = 2", "k = 3"])
    assert list(tables.for_readers(unnamed_rows).text.columns)[0] == "batch →"


@pytest.mark.parametrize(("values", "expected"), [
    ([0.363636, 0.818182], ["0.364", "0.818"]),  # fractions: 3 significant digits
    ([1.971234, 0.052345], ["1.97", "0.05"]),  # decimals set by the largest value
    ([1234.5678, 12.5], ["1235", "12"]),
    ([0.009416, 0.0012345], ["0.00942", "0.00123"]),
    ([1.97, 0.052], ["1.970", "0.052"]),  # short values keep all their decimals
    ([1200.0, 30.0], ["1200", "30"]),  # whole numbers (steps stored as floats)
    ([0.0, 0.2, 0.01], ["0.00", "0.20", "0.01"]),  # short values: as many decimals as needed
    ([0.25, 0.12, 0.295], ["0.250", "0.120", "0.295"]),
    ([1e-5, 0.000158, 0.01], ["1e-05", "0.000158", "0.01"]),  # log-spaced: each 3 digits
    ([2.0e6 + 0.123456, 1.5], ["2e+06", "1.5"]),
])
def test_float_columns(values, expected):
    assert _cells(pd.DataFrame({"x": values}))["x"] == expected


def test_rounded_values_agree_with_the_values_to_three_significant_digits():
    rng = np.random.default_rng(0)
    for scale in (1e-2, 1.0, 37.0, 5e3):
        values = list(rng.uniform(0.1, 1.0, 20) * scale)
        shown = _cells(pd.DataFrame({"x": values}))["x"]
        top = max(values)
        for v, s in zip(values, shown, strict=True):
            # Computed a second way: the error is at most half a unit of the column's third
            # significant digit.
            assert abs(float(s) - v) <= 0.5 * 10 ** (math.floor(math.log10(top)) - 2) + 1e-12


def test_missing_booleans_integers_and_text():
    df = pd.DataFrame({"a": [None, 1.5], "b": [True, False], "c": [3, 40], "d": ["x", "y"],
                       "e": [float("nan"), float("nan")]})
    assert _cells(df) == {"a": ["–", "1.5"], "b": ["yes", "no"], "c": ["3", "40"],
                          "d": ["x", "y"], "e": ["–", "–"]}
    # an all-missing float column is still numbers
    assert tables.for_readers(df).numeric == ["a", "c", "e"]


def test_text_that_reads_as_numbers_is_aligned_as_numbers():
    df = pd.DataFrame({"grokked": ["0/2", "2/2"], "alpha0": ["120 ± 4", "–"],
                       "range": ["1.00–1.41", "2.00–2.83"], "name": ["f = 0", "f = 1"]})
    assert tables.for_readers(df).numeric == ["grokked", "alpha0", "range"]


def test_html_has_no_index_and_right_aligns_numbers():
    df = pd.DataFrame({"claim": ["`x` <b>"], "acc": [0.123456]})
    page = tables.html_table(df).to_html()
    assert "0.123" in page and "0.123456" not in page
    assert "<code>x</code> &lt;b&gt;" in page
    assert not re.search(r"<th[^>]*row_heading", page)  # no index column
    table_id = re.search(r'<table id="(T_\w+)"', page).group(1)
    assert re.search(rf"#{table_id} td\.col1 \{{\s*text-align: right;\s*white-space: nowrap",
                     page)
    assert not re.search(rf"#{table_id} td\.col0 \{{\s*text-align: right", page)
    # Every rule is scoped to this table (a comma would leak the second half to the page).
    rules = re.findall(r"^(#?\S[^{\n]*)\{", page.split("</style>")[0], re.M)
    assert rules and all(r.startswith(f"#{table_id} ") and "," not in r for r in rules)


def test_a_notebook_shell_displays_dataframes_as_reader_tables():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    df = pd.DataFrame({"f": [0.0, 0.2], "acc": [0.181818, np.nan]})
    before = shell.display_formatter.format(df)[0]["text/html"]
    assert ">0<" in before.replace(" ", "") and "0.181818" in before  # pandas' own table
    assert tables.show_dataframes_as_tables(shell)
    try:
        after = shell.display_formatter.format(df)[0]["text/html"]
        assert "0.182" in after and "0.181818" not in after and "–" in after
        assert "row_heading" not in after
    finally:
        shell.display_formatter.formatters["text/html"].pop(pd.DataFrame)


SCRIPT = """
import sys
import pandas as pd
from grokpaper.core import tables
print(tables.show_dataframes_as_tables())  # a script: no shell, nothing registered
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()  # as in a notebook kernel: IPython runs, then we import
from grokpaper.core import report
assert "grokpaper.core.report" in sys.modules
print(shell.display_formatter.format(pd.DataFrame({"a": [0.181818]}))[0]["text/html"])
"""


def test_importing_report_in_a_notebook_is_what_turns_reader_tables_on():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True).stdout
    assert out.startswith("False\n")
    assert "0.182" in out and "0.181818" not in out
