"""The verdict ladder, the registry of the studies, the verdict record and the phase table."""

import ast
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grokpaper.carvalho import claims as claims_carvalho
from grokpaper.core import phases, studies, verdicts
from grokpaper.core.verdicts import (
    ALL,
    INCONCLUSIVE,
    MAJORITY,
    MOST,
    NOT_SUPPORTED,
    PARTLY,
    SUPPORTED,
    VERDICTS,
    combined,
    ladder,
    share_verdict,
)
from grokpaper.lisakib import claims_weights
from grokpaper.liu import phase_claims
from grokpaper.mnist import claims as claims_mnist
from grokpaper.mnist import lisakib_claims

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("decidable", "all_met", "some_met", "expected"), [
    (False, True, True, INCONCLUSIVE),
    (False, False, False, INCONCLUSIVE),
    (True, True, True, SUPPORTED),
    (True, True, False, SUPPORTED),
    (True, False, True, PARTLY),
    (True, False, False, NOT_SUPPORTED),
])
def test_ladder_steps(decidable, all_met, some_met, expected):
    assert ladder(decidable=decidable, all_met=all_met, some_met=some_met) == expected


@pytest.mark.parametrize(("supported_from", "in_integers"), [
    (ALL, lambda k, n: k == n),
    (MAJORITY, lambda k, n: 2 * k >= n),  # ties count as a majority
    (MOST, lambda k, n: 10 * k >= 7 * n),
])
def test_share_verdict_agrees_with_integer_arithmetic(supported_from, in_integers):
    for n in range(13):
        for k in range(n + 1):
            want = (INCONCLUSIVE if n == 0 else SUPPORTED if in_integers(k, n)
                    else PARTLY if k else NOT_SUPPORTED)
            assert share_verdict(k, n, supported_from=supported_from) == want, (k, n)


def _combined_as_written_before(found: list[str]) -> str:
    """The rule Fig. 4 and the intensity map wrote inline before :func:`combined`."""
    if all(v == "supported" for v in found):
        return "supported"
    if any(v in ("supported", "partly supported") for v in found):
        return "partly supported"
    return "inconclusive" if all(v == "inconclusive" for v in found) else "not supported"


def test_combined_matches_the_inline_rule_on_every_list_up_to_three():
    for k in range(4):
        for found in itertools.product(VERDICTS, repeat=k):
            assert combined(found) == _combined_as_written_before(list(found)), found
    assert combined([SUPPORTED, INCONCLUSIVE]) == PARTLY
    assert combined([INCONCLUSIVE, INCONCLUSIVE]) == INCONCLUSIVE


def test_the_registry_matches_the_book():
    toc = (ROOT / "_toc.yml").read_text()
    captions = [line.split(":", 1)[1].strip() for line in toc.splitlines()
                if line.strip().startswith("- caption:")]
    names = [s.name for s in studies.STUDIES]
    assert [c for c in captions if c in names] == names  # every study, in the book's order
    bib = (ROOT / "book" / "references.bib").read_text()
    for s in studies.STUDIES:
        assert f"{{{s.key}," in bib or s == studies.CROSS  # the book's own part cites no one
    assert studies.CROSS.key == "" and studies.STUDIES[-1] == studies.CROSS
    assert len(set(names)) == len(names) == len({s.key for s in studies.STUDIES})
    assert studies.by_name("Nobody 1999") is None
    assert [studies.rank(n) for n in [*names, "(not run)"]] == [0, 1, 2, 3, 4]


def _string_constants(path: Path) -> set[str]:
    return {n.value for n in ast.walk(ast.parse(path.read_text()))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_paper_names_are_spelled_only_in_the_registry():
    names = {s.name for s in studies.STUDIES}
    registry = ROOT / "grokpaper" / "core" / "studies.py"
    files = [p for d in ("grokpaper", "notebooks", "tests") for p in (ROOT / d).rglob("*.py")]
    assert registry in files and len(files) > 50
    spelled = {str(p.relative_to(ROOT)): _string_constants(p) & names
               for p in files if p != registry}
    assert {p: s for p, s in spelled.items() if s} == {}
    assert _string_constants(registry) & names == names


def test_every_claims_module_names_its_paper_from_the_registry():
    grid = pd.DataFrame([["comprehension", "grokking", "memorization"],
                         ["comprehension", "grokking", "confusion"]])
    ranges = pd.DataFrame({"normalization": ["filter"] * 2,
                           "li_class": ["grokking", "comprehension"], "range": [2.0, 1.0]})
    mlp = [verdicts.Verdict("P", "F", "c", "m", SUPPORTED, "p")]
    t3 = pd.DataFrame({"row": ["1K (original)", "batch 32"], "outcome": ["grokking"] * 2,
                       "steps": [np.arange(3)] * 2, "t_mem": 1.0, "t_half": 2.0, "delay": 1.0,
                       "test_end": 0.9})
    found = {
        studies.LIU: phase_claims.liu_fig6({}, {"b": grid}, page="p")
        + claims_mnist.liu_fig8_phases(grid, page="p"),
        studies.LISAKIB: claims_weights.landscapes(ranges, page="p")
        + lisakib_claims.table3(t3, page="p"),
        studies.CARVALHO: [claims_carvalho.carvalho_architectures(mlp, mlp, page="p")],
    }
    for study, found_ in found.items():
        assert found_ and {v.paper for v in found_} == {study.name}


def test_verdicts_roundtrip_and_reject_unknown_labels(tmp_path):
    v = verdicts.Verdict("P", "Fig. 1", "c", "m", "supported", "x/y")
    verdicts.record("x/y", [v], profile="quick", root=tmp_path)
    assert verdicts.load_all(profile="quick", root=tmp_path) == [v]
    assert verdicts.load_all(profile="paper", root=tmp_path) == []
    with pytest.raises(ValueError, match="verdict must be one of"):
        verdicts.Verdict("P", "F", "c", "m", "probably", "x")


def test_publish_records_and_shows_every_verdict(tmp_path):
    found = [verdicts.Verdict("P", "Fig. 1", "claim one", "m1", "supported", "x/y"),
             verdicts.Verdict("P", "Fig. 2", "claim two", "m2", "not supported", "x/y")]
    shown = verdicts.publish("x/y", found, profile="smoke", root=tmp_path)
    assert verdicts.load_all(profile="smoke", root=tmp_path) == found
    assert shown.data.splitlines() == [
        "- **supported**: claim one *Measured:* m1",
        "- **not supported**: claim two *Measured:* m2"]


def test_load_all_lists_the_papers_in_the_books_order(tmp_path):
    def row(paper: str, figure: str) -> verdicts.Verdict:
        return verdicts.Verdict(paper, figure, "c", "m", verdicts.NOT_RUN, "x")

    chapters = {"a": [row(studies.LISAKIB.name, "Fig. 2")],
                "b": [row("(not run)", "MNIST")],
                "c": [row(studies.LIU.name, "Fig. 3"), row(studies.CARVALHO.name, "Fig. 4")],
                "d": [row(studies.CARVALHO.name, "Fig. 3a"), row(studies.LIU.name, "Fig. 1")]}
    for chapter, rows in chapters.items():
        verdicts.record(chapter, rows, profile="smoke", root=tmp_path)
    got = [(v.paper, v.figure) for v in verdicts.load_all(profile="smoke", root=tmp_path)]
    assert got == [(studies.CARVALHO.name, "Fig. 3a"), (studies.CARVALHO.name, "Fig. 4"),
                   (studies.LIU.name, "Fig. 1"), (studies.LIU.name, "Fig. 3"),
                   (studies.LISAKIB.name, "Fig. 2"), ("(not run)", "MNIST")]


def test_phase_table_is_the_majority_of_each_cell():
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"wd": rng.choice([0.0, 1.0, 3.0], 60),
                         "lr": rng.choice([1e-3, 1e-2], 60),
                         "phase": rng.choice(phases.PHASES, 60)})
    runs = runs[~((runs["wd"] == 3.0) & (runs["lr"] == 1e-2))]  # one cell without a run
    for descending in (False, True):
        table = phases.phase_table(runs, rows="wd", cols="lr", descending=descending)
        assert table.index.tolist() == sorted([0.0, 1.0, 3.0], reverse=descending)
        assert table.columns.tolist() == [1e-3, 1e-2]
        for wd, lr in itertools.product(table.index, table.columns):
            cell = runs[(runs["wd"] == wd) & (runs["lr"] == lr)]["phase"].tolist()
            want = phases.majority(cell) if cell else None
            got = table.loc[wd, lr]
            assert (got == want) if cell else pd.isna(got), (wd, lr)
