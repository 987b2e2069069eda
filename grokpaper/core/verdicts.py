"""Claim verdicts: each chapter records its claims and verdicts; the summary page collects them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grokpaper.core.paths import store_root
from grokpaper.core.store import atomic_write_text

VERDICTS = ("supported", "partly supported", "not supported", "inconclusive")
#: Recorded by the runner, never by a chapter: the chapter could not run (e.g. no MNIST data).
NOT_RUN = "not run"


@dataclass(frozen=True)
class Verdict:
    """One claim of a paper next to what our run measured."""

    paper: str  # e.g. "Carvalho et al. 2025"
    figure: str  # e.g. "Fig. 3b"
    claim: str  # the paper's claim, in one sentence
    measured: str  # our numbers, in one sentence
    verdict: str  # one of VERDICTS
    page: str  # book page (docname) holding the evidence, e.g. "carvalho/fig3b_equidistant"

    def __post_init__(self) -> None:
        if self.verdict not in (*VERDICTS, NOT_RUN):
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


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
    return "\n".join(f"- **{v.verdict}**: {v.claim} *Measured:* {v.measured}" for v in verdicts)


def publish(chapter: str, verdicts: list[Verdict], *, profile: str,
            root: Path | None = None) -> Any:
    """Record ``verdicts`` for the summary and return them as Markdown to show on the page."""
    from IPython.display import Markdown

    record(chapter, verdicts, profile=profile, root=root)
    return Markdown(as_markdown(verdicts))


def load_all(*, profile: str, root: Path | None = None) -> list[Verdict]:
    """Every recorded verdict for ``profile``, sorted by paper then figure."""
    folder = _folder(profile, root)
    rows: list[Verdict] = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        rows.extend(Verdict(**row) for row in json.loads(path.read_text()))
    return sorted(rows, key=lambda v: (v.paper, v.figure))
