"""The studies this book reproduces: the one place their names are spelled.

Every verdict names its paper with :attr:`Study.name`; the landing page orders its rows by
:data:`STUDIES` (the order of the book's parts in ``_toc.yml``) and cites :attr:`Study.key`
(``book/references.bib``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Study:
    """One reproduced paper."""

    name: str  # display name, as on the landing page and the book's part captions
    key: str  # BibTeX key in book/references.bib ("" for the book's own cross-examination)


CARVALHO = Study("Carvalho et al. 2025", "carvalho2025grokking")
LIU = Study("Liu et al. 2022", "liu2022towards")
LISAKIB = Study("Li & Sakib", "lisakib_ece826")
#: Not a paper: the book's own part testing each study's definition and explanation on the
#: others' runs (grokpaper/cross/); it cites no one.
CROSS = Study("Cross-examination", "")
#: In the book's order.
STUDIES = (CARVALHO, LIU, LISAKIB, CROSS)


def by_name(name: str) -> Study | None:
    """The study called ``name`` (as in :attr:`Study.name`), None for any other name."""
    return next((s for s in STUDIES if s.name == name), None)


def rank(name: str) -> int:
    """Position of the study ``name`` in the book; other names (e.g. a chapter that did not
    run) come after every study."""
    study = by_name(name)
    return STUDIES.index(study) if study else len(STUDIES)
