"""Claim verdicts: the graded ladder every claim function uses, and the record each chapter
writes for the summary page."""

from __future__ import annotations

import json
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
        text += f" {v.detail}" if v.detail else ""
        return text + (f" *What would decide it:* {v.decide}" if v.decide else "")

    return "\n".join(item(v) for v in verdicts)


def publish(chapter: str, verdicts: list[Verdict], *, profile: str,
            root: Path | None = None) -> Any:
    """Record ``verdicts`` for the summary and return them as Markdown to show on the page."""
    from IPython.display import Markdown  # here: IPython is needed (and loaded) in notebooks only

    record(chapter, verdicts, profile=profile, root=root)
    return Markdown(as_markdown(verdicts))


def load_all(*, profile: str, root: Path | None = None) -> list[Verdict]:
    """Every recorded verdict for ``profile``: the studies in the book's order
    (:data:`~grokpaper.core.studies.STUDIES`, then any other paper name), then by figure."""
    folder = _folder(profile, root)
    rows: list[Verdict] = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        rows.extend(Verdict(**row) for row in json.loads(path.read_text()))
    return sorted(rows, key=lambda v: (studies.rank(v.paper), v.paper, v.figure))
