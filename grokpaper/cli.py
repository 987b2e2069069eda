"""Command line: ``grokpaper run | list | nbval-prepare`` (see ``grokpaper --help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grokpaper import runner
from grokpaper.cluster import cluster
from grokpaper.profiles import PROFILE_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grokpaper", description="Execute the book's notebooks under a profile.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute notebooks into book/ (unchanged ones are skipped)")
    run.add_argument("--profile", required=True, choices=PROFILE_NAMES,
                     help="smoke: seconds; quick: minutes on CPU; paper: full scale (GPU)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="notebook parameter; VALUE is parsed as JSON when possible")
    run.add_argument("--force", action="store_true", help="rerun even unchanged notebooks")
    run.add_argument("--quiet", action="store_true",
                     help="no progress bars, one line per notebook")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on an existing Dask scheduler, e.g. tcp://host:8786")
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="e.g. carvalho/fig3b_equidistant or its path (default: all)")
    run.set_defaults(subparser=run)

    sub.add_parser("list", help="list the notebooks and their output pages")

    prep = sub.add_parser("nbval-prepare",
                          help="write parameterized (unexecuted) notebooks for pytest --nbval-lax")
    prep.add_argument("--out", required=True, type=Path, help="folder to write them to")
    prep.add_argument("--profile", default="smoke", choices=PROFILE_NAMES)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``grokpaper`` console script; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    notebooks = runner.discover()

    if args.command == "list":
        root = runner.Layout().notebooks.parent
        for nb in notebooks:
            print(f"{nb.name:<40} {nb.source.relative_to(root)} -> {nb.output.relative_to(root)}")
        return 0

    if args.command == "nbval-prepare":
        written = runner.nbval_prepare(args.out, args.profile)
        print(f"wrote {len(written)} notebook(s) with profile={args.profile!r} under {args.out}")
        return 0

    try:
        params = runner.parse_params(args.param)
        chosen = runner.select(notebooks, args.notebooks)
    except ValueError as exc:
        args.subparser.error(str(exc))
    if not chosen:
        args.subparser.error("no notebooks found under notebooks/")
    if args.workers is not None and args.workers <= 0:
        args.subparser.error(f"--workers must be a positive integer, got {args.workers}")
    with cluster(scheduler=args.scheduler, workers=args.workers) as client:
        outcomes = runner.run(chosen, args.profile, params, force=args.force, quiet=args.quiet,
                              client=client)
    failed = [o for o in outcomes if o.status == "FAILED"]
    if failed:
        print(f"\n{len(failed)} of {len(outcomes)} notebook(s) failed:", file=sys.stderr)
        for o in failed:
            print(f"  {o.notebook.name}: {o.detail}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
