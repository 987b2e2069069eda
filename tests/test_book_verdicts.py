"""Every verdict the notebooks of this session recorded can be shown on the landing page
(:func:`grokpaper.core.verdicts.problems`: ``measured`` one line of at most
:data:`~grokpaper.core.verdicts.MEASURED_MAX` characters, ``decide`` exactly for the
inconclusive ones). Runs after the notebooks (``make test``: nbval, smoke profile)."""

from pathlib import Path

import pytest

from grokpaper.core.studies import LIU
from grokpaper.core.verdicts import Verdict, path_of, problems, read
from tests.conftest import SESSION_START

AFTER_NOTEBOOKS = True
WINGS = {p.name for p in (Path(__file__).parents[1] / "notebooks").iterdir() if p.is_dir()}
#: Papers whose verdicts are held to the rule so far (the others follow as their chapters are
#: brought to it).
CHECKED = {LIU.name}


def _chapters_run(session: pytest.Session) -> set[str]:
    """Chapters whose notebook ran as nbval items in this session, e.g. "liu/fig2_x"."""
    out = set()
    for item in session.items:
        path = Path(str(item.path))
        if path.suffix == ".ipynb":
            wing = path.parent.name
            out.add(f"{wing}/{path.stem}" if wing in WINGS else path.stem)
    return out


def test_every_verdict_recorded_by_the_notebooks_is_well_formed(request: pytest.FixtureRequest):
    ran = _chapters_run(request.session)
    if not ran:
        pytest.skip("no notebook ran in this session (make test runs them all)")
    start = request.config.stash[SESSION_START]
    found: dict[str, list[Verdict]] = {}
    for chapter in sorted(ran - {"summary", "carvalho/datasets"}):
        path = path_of(chapter, profile="smoke")
        assert path.exists() and path.stat().st_mtime >= start, f"{chapter} recorded nothing"
        found[chapter] = read(path)
        assert found[chapter], f"{chapter} recorded no verdict"
    bad = {f"{c}: {v.figure}": problems(v) for c, rows in found.items() for v in rows
           if v.paper in CHECKED and problems(v)}
    assert bad == {}
    if any(c.startswith("liu/") for c in ran):  # the rule was applied, not skipped
        assert any(v.paper in CHECKED for rows in found.values() for v in rows)
