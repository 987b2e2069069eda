"""The landing page's verdict table: how many claims each study has per verdict, then one row
per claim in the papers' order, the verdict as a coloured badge that also spells it out.

Markdown (MyST) with inline HTML for the badges, written by ``notebooks/summary.py``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from grokpaper.core.studies import STUDIES
from grokpaper.core.verdicts import INCONCLUSIVE, NOT_RUN, VERDICTS, Verdict

#: Badge colours from the Okabe-Ito palette (distinct under the common colour-vision
#: deficiencies), with black text: every one contrasts with it by at least WCAG's 4.5:1. The
#: badge spells the verdict out, so the colour never carries the meaning alone.
BADGE_COLOURS = {
    "supported": "#009E73",  # bluish green
    "partly supported": "#F0E442",  # yellow
    "not supported": "#D55E00",  # vermillion
    "inconclusive": "#BBBBBB",  # grey
    NOT_RUN: "#FFFFFF",  # white (with the border every badge has)
}
#: Columns of the counts table, in the ladder's order.
KINDS = (*VERDICTS, NOT_RUN)


def badge(verdict: str) -> str:
    """The verdict as an inline HTML badge: its word on its colour."""
    style = (f"background:{BADGE_COLOURS[verdict]};color:#000;border:1px solid #555;"
             "border-radius:0.3em;padding:0.05em 0.4em;white-space:nowrap;font-weight:600")
    return f'<span class="verdict-badge" style="{style}">{verdict}</span>'


def cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def groups(rows: list[Verdict]) -> dict[str, list[Verdict]]:
    """``rows`` per study in the book's order (study name -> rows, order kept), then the
    chapters that did not run under ``"other"`` (their paper is unknown)."""
    out = {s.name: [v for v in rows if v.paper == s.name] for s in STUDIES}
    known = {s.name for s in STUDIES}
    out["other"] = [v for v in rows if v.paper not in known]
    return {name: mine for name, mine in out.items() if mine}


def _label(name: str) -> str:
    keys = {s.name: s.key for s in STUDIES}
    if name not in keys:
        return "chapters that did not run"
    # The cross-examination is the book's own part: named, not cited.
    return f"{{cite:t}}`{keys[name]}`" if keys[name] else name


def counts_markdown(rows: list[Verdict]) -> str:
    """The counts table: one row per verdict kind (its badge), one column per study (cited)
    and one for all of them; the last row counts the claims."""
    found = {name: Counter(v.verdict for v in mine) for name, mine in groups(rows).items()}
    found["all"] = Counter(v.verdict for v in rows)
    kinds = [k for k in KINDS if found["all"][k] or k != NOT_RUN]
    names = list(found)
    lines = ["| Verdict | " + " | ".join("all" if n == "all" else _label(n) for n in names)
             + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {badge(k)} | " + " | ".join(str(found[n][k]) for n in names) + " |"
              for k in kinds]
    lines.append("| claims | " + " | ".join(str(sum(found[n].values())) for n in names) + " |")
    return "\n".join(lines)


def figure_link(v: Verdict, root: Path) -> str:
    """``[Fig. 3b](carvalho/fig3b_equidistant.ipynb)`` when the page exists under ``root``
    (the book's source folder), else the label alone."""
    target = Path(f"{v.page}.ipynb")
    return f"[{cell(v.figure)}]({target.as_posix()})" if (root / target).exists() else cell(
        v.figure)


def table_markdown(rows: list[Verdict], root: Path) -> str:
    """One row per claim: figure (linked to its page), claim, the one-line measurement (plus,
    for an inconclusive verdict, what would decide it) and the verdict's badge."""
    lines = ["| Figure | Claim | Measured | Verdict |", "|---|---|---|---|"]
    for v in rows:
        measured = cell(v.measured)
        if v.verdict == INCONCLUSIVE and v.decide:
            measured += f"<br>*To decide:* {cell(v.decide)}"
        lines.append(f"| {figure_link(v, root)} | {cell(v.claim)} | {measured} "
                     f"| {badge(v.verdict)} |")
    return "\n".join(lines)


def summary_markdown(rows: list[Verdict], *, profile: str, root: Path) -> str:
    """The landing page's section: the counts, then one table per study (``rows`` in the
    order :func:`~grokpaper.core.verdicts.load_all` gives)."""
    if not rows:
        return (f"No verdicts have been recorded for profile `{profile}` yet: run the chapters "
                f"first (`grokpaper run --profile {profile}`).")
    parts = [f"Profile `{profile}`: {len(rows)} claims. The numbers behind each verdict, and "
             "the rule that gives it, are on the chapter page its figure links to.", "",
             counts_markdown(rows)]
    for name, mine in groups(rows).items():
        parts += ["", f"**{_label(name)}**: {len(mine)} claims, in the paper's order.", "",
                  table_markdown(mine, root)]
    return "\n".join(parts)
