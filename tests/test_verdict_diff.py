"""scripts/verdict_diff.py: a book's verdicts against a recorded CSV name exactly the claims that
changed, and --write records what the next book diffs against."""

from __future__ import annotations

import csv
import importlib.util
import sys

from grokpaper.core import verdicts
from grokpaper.core.paths import REPO_ROOT
from grokpaper.core.studies import LIU
from grokpaper.core.verdicts import INCONCLUSIVE, PARTLY, SUPPORTED, Verdict

spec = importlib.util.spec_from_file_location("verdict_diff",
                                              REPO_ROOT / "scripts" / "verdict_diff.py")
verdict_diff = importlib.util.module_from_spec(spec)
sys.modules["verdict_diff"] = verdict_diff
spec.loader.exec_module(verdict_diff)


def _v(claim: str, verdict: str, measured: str = "m") -> Verdict:
    return Verdict(paper=LIU.name, figure="Fig. 7 right", claim=claim,
                   measured=measured, verdict=verdict, page="liu/fig7_transformer_phases",
                   decide="more steps" if verdict == INCONCLUSIVE else "")


def test_a_recorded_book_diffs_against_itself_as_unchanged_and_names_each_change(tmp_path,
                                                                                  capsys):
    store, csv_path = tmp_path / "store", tmp_path / "v.csv"
    verdicts.record("liu/fig7_transformer_phases",
                    [_v("a", INCONCLUSIVE), _v("b", SUPPORTED), _v("c", PARTLY)],
                    profile="quick", root=store)
    assert verdict_diff.main(["--store", str(store), "--write", str(csv_path),
                              "--commit", "abc"]) == 0
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["claim"] for r in rows] == ["a", "b", "c"] and rows[0]["commit"] == "abc"
    assert verdict_diff.changes(rows, rows) == []
    assert "1 supported, 1 partly supported, 0 not supported, 1 inconclusive" in (
        capsys.readouterr().out)

    verdicts.record("liu/fig7_transformer_phases",
                    [_v("a", PARTLY, "now"), _v("b", SUPPORTED), _v("d", SUPPORTED)],
                    profile="quick", root=store)
    after = verdict_diff.rows_of(verdicts.load_all(profile="quick", root=store), "def")
    found = verdict_diff.changes(rows, after)
    assert len(found) == 3
    assert found[0].startswith("inconclusive -> partly supported") and "now: now" in found[0]
    assert found[1].startswith("new:") and ": d ->" in found[1]
    assert found[2].startswith("gone:") and found[2].endswith(": c")


def test_no_recorded_verdicts_is_one_line_and_a_failure(tmp_path, capsys):
    assert verdict_diff.main(["--store", str(tmp_path), "--commit", "x"]) == 1
    assert "build the book first" in capsys.readouterr().err
