"""Tables as a reader sees them: no 0, 1, 2 index, numbers rounded for reading, real HTML.

Every table a page shows goes through :func:`html_table`: explicitly (the "paper says / we use"
tables), or because it is a DataFrame displayed in a notebook that imported
:mod:`grokpaper.core.report` (which calls :func:`show_dataframes_as_tables`).

How numbers are written, per column (so that a column's decimals line up):

- integers as they are; floats that are all whole numbers without decimals (steps);
- floats of at most three decimals (parameters, rounded values) with as many decimals as the
  longest needs: ``0.20, 0.01``;
- other floats with three significant digits of the column's largest value (``0.364``,
  ``1.97``, ``12.3``, ``1235``, ``0.00942``), or each with three significant digits
  (``0.000158``, ``1e-05``) when the column spans more than three orders of magnitude, its
  smallest value is below 0.001, or its largest reaches a million;
- missing values (None, NaN) as a dash, booleans as yes/no.
"""

from __future__ import annotations

import html
import math
import numbers
import re
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

#: Shown for a missing value (None, NaN).
MISSING = "–"
#: Header of the column that holds the row labels of a pivot table: rows ↓, columns →.
PIVOT_HEADER = "{rows} ↓ {cols} →"


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)
                         and math.isnan(v))


def _decimals(x: float) -> int:
    """Decimals ``x`` needs (4 for anything beyond 3)."""
    for d in range(4):
        if abs(x - round(x, d)) <= 1e-12 * max(1.0, abs(x)):
            return d
    return 4


def float_format(values: list[float]) -> str:
    """The format spec for a column of finite floats (see the module docstring)."""
    if not values:
        return ".3g"
    nonzero = [abs(v) for v in values if v != 0]
    need = max(_decimals(v) for v in values)
    if need <= 3:
        return f".{need}f"
    if not nonzero:
        return ".0f"
    top, low = max(nonzero), min(nonzero)
    if low < 1e-3 or top / low > 1e3 or top >= 1e6:
        return ".3g"
    return f".{max(0, 2 - math.floor(math.log10(top)))}f"


#: Text that reads as a number (right-aligned like one): ``12``, ``-0.5``, ``3/10``,
#: ``0.29 ± 0.03``, ``1.00–1.41``, ``1,234``, ``+0.12``, or the dash of a missing value.
NUMBER_TEXT = re.compile(r"[-+−]?[\d.,]+(?:e[-+]?\d+)?(?:/\d+| ± [\d.,]+|–[\d.,]+)?|–")


def _reads_as_number(v: Any) -> bool:
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, numbers.Real):
        return True
    return isinstance(v, str) and NUMBER_TEXT.fullmatch(v.strip()) is not None


def format_column(values: pd.Series) -> tuple[list[str], bool]:
    """The cells of one column as text, and whether it reads as numbers (right-aligned)."""
    items = list(values)
    present = [v for v in items if not _is_missing(v)]
    floats = [float(v) for v in present if isinstance(v, numbers.Real)
              and not isinstance(v, (bool, np.bool_, numbers.Integral)) and math.isfinite(v)]
    spec = float_format(floats)
    out = []
    for v in items:
        if _is_missing(v):
            out.append(MISSING)
        elif isinstance(v, (bool, np.bool_)):
            out.append("yes" if v else "no")
        elif isinstance(v, numbers.Integral):
            out.append(str(int(v)))
        elif isinstance(v, numbers.Real):
            out.append(f"{float(v):{spec}}" if math.isfinite(v) else str(float(v)))
        else:
            out.append(str(v))
    if not present:  # all missing: numbers if the column was meant to hold them
        return out, pd.api.types.is_numeric_dtype(values)
    return out, all(_reads_as_number(v) for v in present)


def _label(key: Any) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return " ".join(str(p) for p in parts if str(p) != "")


class ReaderTable(NamedTuple):
    """A table as text cells, and which of its columns to align as numbers or row labels."""

    text: pd.DataFrame
    numeric: list[str]  # right-aligned
    labels: list[str]  # the row labels (a former index)


def for_readers(df: pd.DataFrame) -> ReaderTable:
    """``df`` as text cells, with a meaningful index turned into leading (label) columns and a
    default 0, 1, 2 index dropped."""
    df = df.copy()
    if isinstance(df.columns, pd.MultiIndex):
        df.columns = [_label(c) for c in df.columns]
    cols_name = df.columns.name
    df.columns = [str(c) for c in df.columns]
    index = df.index
    default = (isinstance(index, pd.RangeIndex) and index.name is None and index.start == 0
               and index.step == 1)
    if default:
        df = df.reset_index(drop=True)
    else:
        names = [str(n) if n is not None else "" for n in index.names]
        if cols_name is not None and len(names) == 1:
            header = PIVOT_HEADER if names[0] else PIVOT_HEADER.split("↓ ")[1]
            names = [header.format(rows=names[0], cols=cols_name)]
        names = [f"{n} " if n in df.columns else n for n in names]
        df.index = index.set_names(names)
        df = df.reset_index()
    n_labels = 0 if default else index.nlevels
    groups = [[i] for i in range(len(df.columns))]
    if cols_name is not None:  # a pivot table: its cells are one quantity, written alike
        groups = [[i] for i in range(n_labels)] + [list(range(n_labels, len(df.columns)))]
    text: dict[int, list[str]] = {}
    numeric = []
    for group in groups:
        if not group:
            continue
        cells, is_numeric = format_column(pd.concat([df.iloc[:, i] for i in group]))
        n = len(df)
        for k, i in enumerate(group):
            text[i] = cells[k * n:(k + 1) * n]
        numeric += [df.columns[i] for i in group] if is_numeric else []
    out = pd.DataFrame({i: text[i] for i in range(len(df.columns))})
    out.columns = df.columns
    return ReaderTable(out, numeric, list(df.columns[:n_labels]))


def _html_text(text: Any) -> str:
    # Notes quote code as `name`: that is Markdown, so it becomes <code> here, never a backtick.
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(str(text)))


def html_table(df: pd.DataFrame) -> Styler:
    """``df`` as an HTML table that Jupyter Book renders as one: no 0, 1, 2 index, numbers
    written for readers (module docstring), text escaped (Markdown code spans become
    ``<code>``), numbers right-aligned. A Markdown table displayed from a notebook is not
    rendered: outputs are rendered as CommonMark, which has no tables."""
    text, numeric, labels = for_readers(df)
    # the theme right-aligns table headers (numbers); text cells read better on the left
    # (one selector per rule: Styler prefixes each rule with the table's id, so a comma would
    # leave the second half applying to the whole page)
    left = [("text-align", "left"), ("vertical-align", "top"), ("padding", "0.2em 0.45em"),
            ("font-size", "0.9em")]
    styles: list[dict[str, Any]] = [{"selector": "th", "props": left},
                                    {"selector": "td", "props": left}]
    for i, col in enumerate(text.columns):
        props = [("text-align", "right")] if col in numeric else []
        props += [("white-space", "nowrap")] if col in numeric or col in labels else []
        if props:  # numbers and row labels never break across lines
            styles += [{"selector": f"th.col_heading.col{i}", "props": props},
                       {"selector": f"td.col{i}", "props": props}]
    return (text.style.hide(axis="index").format(_html_text)
            .format_index(lambda c: html.escape(str(c)), axis="columns")
            .set_table_attributes('class="dataframe"')
            .set_table_styles(styles))


def _dataframe_html(df: pd.DataFrame) -> str:
    return html_table(df).to_html()


def show_dataframes_as_tables(shell: Any = None) -> bool:
    """Make the IPython ``shell`` (default: the running one) display every DataFrame through
    :func:`html_table`; False when there is no shell (a script, the CLI)."""
    if shell is None:
        from IPython import get_ipython  # IPython: loaded in notebooks anyway, not in scripts

        shell = get_ipython()
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, _dataframe_html)
    return True
