"""Each claim's verdict of a book against a recorded one (not a test): what changed, and the
counts per study.

    python scripts/verdict_diff.py [--profile quick] [--store DIR]
        [--against benchmarks/verdicts-quick.csv] [--write FILE] [--commit SHA]

Reads the verdicts the book's chapters recorded in the store (``grokpaper.core.verdicts``),
prints the counts per paper and every claim whose verdict differs from the CSV of
``--against`` (claims are matched by paper, figure, page and claim text; a claim only on one
side is listed as new or gone), and with ``--write`` records this book's verdicts in the same
CSV form, for the next book to diff against.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

from grokpaper.core.summary import KINDS, groups
from grokpaper.core.verdicts import NOT_RUN, Verdict, load_all

FIELDS = ("commit", "paper", "figure", "page", "claim", "verdict", "measured")


def key(row: dict[str, str]) -> tuple[str, str, str, str]:
    """What identifies a claim across books."""
    return row["paper"], row["figure"], row["page"], row["claim"]


def rows_of(verdicts: list[Verdict], commit: str) -> list[dict[str, str]]:
    return [{"commit": commit, "paper": v.paper, "figure": v.figure, "page": v.page,
             "claim": v.claim, "verdict": v.verdict, "measured": v.measured} for v in verdicts]


def changes(before: list[dict[str, str]], after: list[dict[str, str]]) -> list[str]:
    """One line per claim whose verdict differs, or that is on one side only."""
    old, new = {key(r): r for r in before}, {key(r): r for r in after}
    lines = []
    for k, r in new.items():
        head = f"{r['paper']}, {r['figure']} ({r['page']}): {r['claim']}"
        if k not in old:
            lines.append(f"new: {head} -> {r['verdict']} ({r['measured']})")
        elif old[k]["verdict"] != r["verdict"]:
            lines.append(f"{old[k]['verdict']} -> {r['verdict']}: {head} "
                         f"(was: {old[k]['measured']}; now: {r['measured']})")
    lines += [f"gone: {r['paper']}, {r['figure']} ({r['page']}): {r['claim']}"
              for k, r in old.items() if k not in new]
    return lines


def counts(verdicts: list[Verdict]) -> list[str]:
    """Verdict counts per study, as the landing page's table counts them (core.summary)."""
    out = []
    for name, mine in groups(verdicts).items():
        c = Counter(v.verdict for v in mine)
        out.append(f"{name}: " + ", ".join(f"{c[k]} {k}" for k in KINDS
                                            if c[k] or k != NOT_RUN))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="quick")
    ap.add_argument("--store", type=Path, default=None, help="default: the project's store")
    ap.add_argument("--against", type=Path, default=None, help="a CSV written by --write")
    ap.add_argument("--write", type=Path, default=None)
    ap.add_argument("--commit", default=None, help="default: git rev-parse --short HEAD")
    args = ap.parse_args(argv)
    commit = args.commit or subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    found_now = load_all(profile=args.profile, root=args.store)
    after = rows_of(found_now, commit)
    if not after:
        print(f"no verdicts recorded for profile {args.profile!r}: build the book first",
              file=sys.stderr)
        return 1
    print("\n".join(counts(found_now)))
    if args.against:
        with args.against.open(newline="") as f:
            before = list(csv.DictReader(f))
        found = changes(before, after)
        print(f"\n{len(found)} changed against {args.against}:")
        print("\n".join(found))
    if args.write:
        with args.write.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS)
            w.writeheader()
            w.writerows(after)
    return 0


if __name__ == "__main__":
    sys.exit(main())
