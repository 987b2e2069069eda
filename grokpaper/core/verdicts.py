"""Claim verdicts: the graded ladder every claim function uses, and the record each chapter
writes for the summary page.

A chapter's verdicts are one JSON file, ``<store>/verdicts/<profile>/<chapter>.json``, holding
the rows and their sha256 checksum, written atomically. :func:`load_all` verifies each file: a
damaged one (unreadable, cut short, checksum mismatch) is reported with a
:class:`~grokpaper.core.store.DamagedResultWarning` naming it (and a line in
``<store>/damaged.log``), moved aside to ``<file>.damaged`` and shown as one *not run* row
saying to rerun the chapter; the runner reruns a chapter whose verdict file is missing or
not the one its page was built with (:func:`file_digest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grokpaper.core import studies
from grokpaper.core.files import atomic_write_text
from grokpaper.core.paths import store_root
from grokpaper.core.store import DamagedResultWarning, log_damage

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


def judged(paper: str, figure: str, claim: str, verdict: str, measured: str, page: str, *,
           detail: str = "", decide: str = "") -> Verdict:
    """A :class:`Verdict` from a rule that passes one ``decide`` line whatever its outcome: the
    line is kept for an *inconclusive* verdict only, and required there."""
    if verdict == INCONCLUSIVE and not decide:
        raise ValueError(f"an inconclusive verdict says what would decide it ({paper}, "
                         f"{figure}: {claim})")
    return Verdict(paper=paper, figure=figure, claim=claim, measured=measured, verdict=verdict,
                   page=page, detail=detail, decide=decide if verdict == INCONCLUSIVE else "")


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


#: Verdict files carrying a checksum say so (files without one are read as before).
FILE_FORMAT = 2


def _folder(profile: str, root: Path | None) -> Path:
    return (root or store_root()) / "verdicts" / profile


def path_of(chapter: str, *, profile: str, root: Path | None = None) -> Path:
    """The verdict file of ``chapter`` for ``profile``."""
    return _folder(profile, root) / f"{chapter.replace('/', '__')}.json"


def _rows_sha256(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def record(chapter: str, verdicts: list[Verdict], *, profile: str,
           root: Path | None = None) -> Path:
    """Replace the verdicts of ``chapter`` for ``profile`` (atomic write, with a checksum)."""
    rows = [asdict(v) for v in verdicts]
    path = path_of(chapter, profile=profile, root=root)
    atomic_write_text(path, json.dumps(
        {"format": FILE_FORMAT, "sha256": _rows_sha256(rows), "verdicts": rows}, indent=1))
    return path


def file_digest(chapter: str, *, profile: str, root: Path | None = None) -> str | None:
    """sha256 of ``chapter``'s verdict file as it is now, None when there is none: the runner
    compares it with the one recorded when the chapter's page was built."""
    try:
        return hashlib.sha256(path_of(chapter, profile=profile, root=root).read_bytes()
                              ).hexdigest()
    except FileNotFoundError:
        return None


def read(path: Path) -> list[Verdict]:
    """The verdicts in one file; ValueError (saying what is wrong) if it is damaged."""
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    if isinstance(data, dict):  # with a checksum
        rows = data.get("verdicts")
        if data.get("format") != FILE_FORMAT or not isinstance(rows, list):
            raise ValueError("not a verdict file of this version")
        if data.get("sha256") != _rows_sha256(rows):
            raise ValueError("checksum mismatch")
    elif isinstance(data, list):
        rows = data  # written before verdict files had checksums
    else:
        raise ValueError("not a list of verdicts")
    try:
        return [Verdict(**row) for row in rows]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a row is not a verdict ({exc})") from exc


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
    order (:func:`paper_position`; equal positions keep the order the chapters recorded); a
    damaged file becomes one *not run* row saying to rerun its chapter (module docstring)."""
    folder = _folder(profile, root)
    rows: list[Verdict] = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            rows.extend(read(path))
        except ValueError as exc:
            rows.append(_damaged(path, str(exc), profile, root))
    return sorted(rows, key=lambda v: (studies.rank(v.paper), v.paper,
                                       paper_position(v.figure)))


def _damaged(path: Path, problem: str, profile: str, root: Path | None) -> Verdict:
    chapter = path.stem.replace("__", "/")
    aside = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, aside)
        where = f"moved to {aside.name}"
    except OSError as exc:  # a read-only store, or another reader moved it first
        where = f"left in place ({exc.strerror or exc})"
    message = (f"damaged verdict file {path}: {problem}; {where}; rerun "
               f"`grokpaper run --profile {profile} {chapter}`")
    warnings.warn(message, DamagedResultWarning, stacklevel=3)
    log_damage(root or store_root(), message)
    return Verdict(paper="(damaged)", figure=chapter, claim="every claim of this chapter",
                   measured=f"its verdict file was damaged ({problem}); rerun the chapter",
                   verdict=NOT_RUN, page=chapter)
