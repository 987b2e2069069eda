"""Shape run, measured (not a test): each notebook at a profile with every step budget capped,
one after another, with its wall time and peak memory.

    python scripts/shape_run.py [--profile paper] [--max-steps 3] [--timeout 1800]
        [--json FILE] [NOTEBOOK ...]

Each notebook is one ``grokpaper run --profile P --max-steps N --yes --quiet NOTEBOOK``
(pages and results under ``build/shape/<profile>-<N>-steps/``, never in ``book/`` or your
store; see ``grokpaper run --help``), in the book's order so that a run shared by two pages is
trained by the first. Peak memory: the largest sum of the resident memory of the command and
all its descendants (kernel, worker processes), sampled every 0.2 s, so a spike shorter than
that can be missed. Prints a Markdown table for BENCHMARKS.md and, with ``--json``, writes the
numbers with the load average before and after each notebook.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from grokpaper.book.notebooks import Layout, discover, select

SAMPLE_S = 0.2


def tree_rss(proc: psutil.Process) -> int:
    """Resident bytes of ``proc`` and all its descendants (those that vanish meanwhile: 0)."""
    total = 0
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in family:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total


def measure(argv: list[str], timeout: float) -> dict:
    """Run ``argv``; its exit status, wall time and peak process-tree memory."""
    start = time.perf_counter()
    load = os.getloadavg()[0]
    proc = subprocess.Popen(argv)
    watch = psutil.Process(proc.pid)
    peak, status = 0, None
    while status is None:
        peak = max(peak, tree_rss(watch))
        try:
            status = proc.wait(SAMPLE_S)
        except subprocess.TimeoutExpired:
            if time.perf_counter() - start > timeout:
                for child in watch.children(recursive=True):  # only what this run started
                    child.kill()
                proc.kill()
                status = "timeout"
    return {"status": status, "seconds": round(time.perf_counter() - start, 1),
            "peak_rss_gib": round(peak / 2**30, 2), "load_before": round(load, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--max-steps", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds per notebook before it is stopped (recorded as timeout)")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("notebooks", nargs="*",
                        help="in this order (a page that reuses another's runs after it); "
                             "default: all, in the book's order")
    args = parser.parse_args(argv)
    layout = Layout()
    chosen = select(discover(layout), args.notebooks, layout)
    if args.notebooks:  # the order given: e.g. the cheap pages first, the heavy ones last
        rank = {nb.name: i for i, nb in enumerate(select(discover(layout), [a], layout)[0]
                                                  for a in args.notebooks)}
        chosen.sort(key=lambda nb: rank[nb.name])
    exe = Path(sys.executable).with_name("grokpaper")
    rows = []
    for nb in chosen:
        cmd = [str(exe), "run", "--profile", args.profile, "--max-steps", str(args.max_steps),
               "--yes", "--quiet", nb.name]
        row = {"notebook": nb.name, **measure(cmd, args.timeout)}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps({"profile": args.profile,
                                             "max_steps": args.max_steps, "rows": rows},
                                            indent=1))
    print("| notebook | status | wall (s) | peak RSS (GiB) | load avg before |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['notebook']} | {r['status']} | {r['seconds']:.0f} | "
              f"{r['peak_rss_gib']:.2f} | {r['load_before']:.1f} |")
    print(f"| total | | {sum(r['seconds'] for r in rows):.0f} | "
          f"{max((r['peak_rss_gib'] for r in rows), default=0):.2f} | |")
    return 0 if all(r["status"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
