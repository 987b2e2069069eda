"""Claim verdicts: the graded ladder every claim function uses, and the record each chapter
writes for the summary page."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grokpaper.core import studies
from grokpaper.core.paths import store_root
from grokpaper.core.store import atomic_write_text

VERDICTS = ("supported", "partly supported", "not supported", "inconclusive")
SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE = VERDICTS
#: Recorded by the runner, never by a chapter: the chapter could not run (e.g. no MNIST data).
NOT_RUN = "not run"


@dataclass(frozen=True)
class Verdict:
    """One claim of a paper next to what our run measured."""

    paper: str  # a Study.name of grokpaper.core.studies
    figure: str  # e.g. "Fig. 3b"
    claim: str  # the paper's claim, in one sentence
    measured: str  # our key numbers, one short line (the landing page's column)
    verdict: str  # one of VERDICTS
    page: str  # book page (docname) holding the evidence, e.g. "carvalho/fig3b_equidistant"
    detail: str = ""  # the numbers behind it, per condition (shown on the chapter page)
    # Inconclusive only: why, and what would decide it (more steps, seeds, the paper profile).
    decide: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in (*VERDICTS, NOT_RUN):
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


#: The landing page shows ``measured`` and ``decide`` in a table cell: one line of at most this
#: many characters each (about two lines of the cell at the book's width); the rest goes to
#: ``detail``, shown on the chapter page.
MEASURED_MAX = 160


def problems(v: Verdict) -> list[str]:
    """What keeps ``v`` from being shown as the landing page shows it (empty when well-formed):
    ``measured`` one line of at most :data:`MEASURED_MAX` characters, ``decide`` given exactly
    when the verdict is *inconclusive* (one such line too)."""
    out = []
    for name in ("measured", "decide"):
        text = getattr(v, name)
        if "\n" in text:
            out.append(f"{name} spans several lines")
        if len(text) > MEASURED_MAX:
            out.append(f"{name} has {len(text)} characters (at most {MEASURED_MAX})")
    if not v.measured.strip():
        out.append("measured is empty")
    if v.verdict == INCONCLUSIVE and not v.decide.strip():
        out.append("inconclusive without decide (why, and what would decide it)")
    if v.verdict != INCONCLUSIVE and v.decide:
        out.append(f"decide given for a verdict that is {v.verdict!r}, not inconclusive")
    return out


#: Shares of cases (seeds, runs, claims) that make a claim hold. They differ in meaning, so each
#: rule names the one it needs. A majority: at least half, ties included (e.g. a condition groks
#: if at least half of its seeds grok, as for Definition 3.1 per condition).
MAJORITY = 0.5
#: Most: a clear majority, for a pattern that should show in runs in general (Li & Sakib).
MOST = 0.7
#: Every one.
ALL = 1.0


def ladder(*, all_met: bool, some_met: bool, decidable: bool = True) -> str:
    """The graded verdict: *inconclusive* unless the runs can decide the claim, *supported* if
    every condition of the claim is met, *partly supported* if some are, else *not supported*."""
    if not decidable:
        return INCONCLUSIVE
    if all_met:
        return SUPPORTED
    return PARTLY if some_met else NOT_SUPPORTED


def share_verdict(n_met: int, n: int, *, supported_from: float) -> str:
    """:func:`ladder` for a claim about ``n`` cases of which ``n_met`` show it: *supported* from
    a share of ``supported_from`` (:data:`MAJORITY`, :data:`MOST` or :data:`ALL`), *partly* if
    any does, *inconclusive* with no case."""
    return ladder(decidable=n > 0, all_met=n > 0 and n_met / n >= supported_from,
                  some_met=n_met > 0)


def combined(found: Iterable[str]) -> str:
    """One verdict from the verdicts on the parts of a claim (e.g. one per value of f):
    *supported* if every part is, *partly* if some part is at least partly, *inconclusive* if
    every part is. An empty list counts as supported (vacuously)."""
    found = list(found)
    return ladder(decidable=not found or any(v != INCONCLUSIVE for v in found),
                  all_met=all(v == SUPPORTED for v in found),
                  some_met=any(v in (SUPPORTED, PARTLY) for v in found))


def _folder(profile: str, root: Path | None) -> Path:
    return (root or store_root()) / "verdicts" / profile


def record(chapter: str, verdicts: list[Verdict], *, profile: str,
           root: Path | None = None) -> Path:
    """Replace the verdicts of ``chapter`` for ``profile`` (atomic write)."""
    path = _folder(profile, root) / f"{chapter.replace('/', '__')}.json"
    atomic_write_text(path, json.dumps([asdict(v) for v in verdicts], indent=1))
    return path


def as_markdown(verdicts: list[Verdict]) -> str:
    """The verdicts as a Markdown list, for a chapter's "Verdict" section."""
    def item(v: Verdict) -> str:
        text = f"- **{v.verdict}**: {v.claim} *Measured:* {v.measured}"
        text += f" *In detail:* {v.detail}" if v.detail else ""
        return text + (f" *What would decide it:* {v.decide}" if v.decide else "")

    return "\n".join(item(v) for v in verdicts)


def publish(chapter: str, verdicts: list[Verdict], *, profile: str,
            root: Path | None = None) -> Any:
    """Record ``verdicts`` for the summary and return them as Markdown to show on the page."""
    from IPython.display import Markdown  # here: IPython is needed (and loaded) in notebooks only

    record(chapter, verdicts, profile=profile, root=root)
    return Markdown(as_markdown(verdicts))


#: Where a figure label points in its paper: "Fig. 3b", "Figs. 2, 11", "Table 1", "Sec. 3.4",
#: "App. A: Fig. 3b", "Appendix K", "MNIST (Sec. 1)".
_LOCATOR = re.compile(r"\b(Figs?\.|Table|Sec\.|App\.|Appendix)\s*([A-Z]\b)?\s*"
                      r"(\d+(?:\.\d+)*)?([a-z]\b|[a-z](?=[-/]))?")
#: In the main text, figures come before tables, tables before section-only claims.
_KINDS = {"Fig.": 0, "Figs.": 0, "Table": 1, "Sec.": 2}


def paper_position(figure: str) -> tuple:
    """Sort key of a figure label in its paper's order: main-text figures by number (3a < 3b <
    4 < 10), then tables, then section-only claims; then the appendices by letter; labels that
    point nowhere ("Grokking-intensity map") last."""
    found = list(_LOCATOR.finditer(figure))
    if not found:
        return (2,)
    first = found[0]
    appendix = first.group(1) in ("App.", "Appendix")
    where = found[1] if appendix and len(found) > 1 else (None if appendix else first)
    inner: tuple = (len(_KINDS),)  # a claim on a whole appendix: after its figures
    if where is not None:
        numbers = tuple(int(n) for n in (where.group(3) or "0").split("."))
        inner = (_KINDS.get(where.group(1), 0), numbers, where.group(4) or "")
    return (1, first.group(2) or "", *inner) if appendix else (0, *inner)


def load_all(*, profile: str, root: Path | None = None) -> list[Verdict]:
    """Every recorded verdict for ``profile``: the studies in the book's order
    (:data:`~grokpaper.core.studies.STUDIES`, then any other paper name), each in its paper's
    order (:func:`paper_position`; equal positions keep the order the chapters recorded)."""
    folder = _folder(profile, root)
    rows: list[Verdict] = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        rows.extend(Verdict(**row) for row in json.loads(path.read_text()))
    return sorted(rows, key=lambda v: (studies.rank(v.paper), v.paper,
                                       paper_position(v.figure)))
