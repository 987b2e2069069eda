"""Command line: ``grokpaper run | plan | list | nbval-prepare`` (see ``grokpaper --help``).

Everything a user types is checked before any notebook runs (so a typo never leaves a half-run
book or store behind): the profile, the notebook names, ``--workers``, and every ``-p NAME=VALUE``
against the chosen notebooks' ``parameters`` cells and the parameter dataclasses their
``profiles.resolve`` calls name (type, range, allowed choices), plus the MNIST folder when an
MNIST notebook is chosen. A bad input ends the command with one line on stderr,
``grokpaper run: error: ...``, naming what was wrong and what is allowed, and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

from grokpaper.book import planner, preflight, runner
from grokpaper.book.cluster import cluster
from grokpaper.book.notebooks import Layout, discover, select
from grokpaper.core import profiles
from grokpaper.core.paths import STORE_ENV, default_device
from grokpaper.core.profiles import MAX_STEPS_ENV, PROFILE_NAMES
from grokpaper.core.throughput import human_seconds
from grokpaper.core.verdicts import NOT_RUN

#: Setting this environment variable to 1 answers yes (``run --yes``).
YES_ENV = "GROKPAPER_YES"
#: A run predicted to take longer than this on a CPU asks for --yes first.
ASK_ABOVE_S = 3600.0


class _Parser(argparse.ArgumentParser):
    """Errors in one line (no usage block): ``grokpaper run: error: ... (see --help)``."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grokpaper", description="Execute the book's notebooks under a profile.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    run.add_argument("--max-steps", type=int, default=None, metavar="N",
                     help="shape run: cap every step budget at N (grids, sizes, seeds, widths "
                          "and data stay the profile's); pages and results go to "
                          "build/shape/<profile>-N-steps/, never to book/ or your store")
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="e.g. carvalho/fig3b_equidistant or its path (default: all)")
    run.set_defaults(subparser=run)

    run.add_argument("--yes", action="store_true",
                     help=f"start even when the plan predicts hours on a CPU (or set {YES_ENV}=1)")

    plan = sub.add_parser("plan", help="what notebooks train under a profile: runs, ensembles, "
                                       "FLOPs, peak memory, predicted time (nothing trains)")
    plan.add_argument("--profile", required=True, choices=PROFILE_NAMES)
    plan.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                      help="notebook parameter, as for run")
    plan.add_argument("--max-steps", type=int, default=None, metavar="N",
                      help="plan a shape run (run --max-steps N)")
    plan.add_argument("--device", default=None,
                      help="size the ensembles for this device (default: $GROKPAPER_DEVICE, "
                           "cuda, cpu); 'cuda' without a GPU plans for the accelerator")
    plan.add_argument("--throughput", type=Path, default=None, metavar="FILE",
                      help="rates to use: a calibration or scripts/benchmark.py JSON (this "
                           "machine, or a GPU's), or an accelerator's figures (README: GPU)")
    plan.add_argument("--calibrate", action="store_true",
                      help="measure this machine again instead of using its cached calibration")
    plan.add_argument("--no-times", action="store_true",
                      help="counts only: no calibration, no predicted times")
    plan.add_argument("--json", action="store_true", help="print JSON instead of a table")
    plan.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="default: all")
    plan.set_defaults(subparser=plan)

    sub.add_parser("list", help="list the notebooks and their output pages")

    prep = sub.add_parser("nbval-prepare",
                          help="write parameterized (unexecuted) notebooks for pytest --nbval-lax")
    prep.add_argument("--out", required=True, type=Path, help="folder to write them to")
    prep.add_argument("--profile", default="smoke", choices=PROFILE_NAMES)
    return parser


def main(argv: list[str] | None = None, *, layout: Layout | None = None) -> int:
    """Entry point of the ``grokpaper`` console script; returns the exit status.

    ``layout``: the folders to read and write (tests point the book elsewhere).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    layout = layout or Layout()
    if args.command == "run":
        try:
            cap = args.max_steps if args.max_steps is not None else profiles.max_steps()
        except ValueError as exc:  # a bad $GROKPAPER_MAX_STEPS
            args.subparser.error(str(exc))
        if cap is not None and cap <= 0:
            args.subparser.error(f"--max-steps must be a positive integer, got {cap}")
        if cap is not None:
            return _shape_run(args, cap, layout)
    notebooks = discover(layout)

    if args.command == "list":
        root = layout.notebooks.parent
        for nb in notebooks:
            print(f"{nb.name:<40} {nb.source.relative_to(root)} -> {nb.output.relative_to(root)}")
        return 0

    if args.command == "plan":
        return _plan(args, notebooks, layout)

    if args.command == "nbval-prepare":
        written = runner.nbval_prepare(args.out, args.profile, layout)
        print(f"wrote {len(written)} notebook(s) with profile={args.profile!r} under {args.out}")
        return 0

    return _run(args, notebooks, layout)


def shape_layout(layout: Layout, profile: str, cap: int) -> Layout:
    """Where a shape run (``--max-steps``) writes: pages, build files and the result store all
    under ``build/shape/<profile>-<cap>-steps/``, apart from the book and the user's store."""
    scratch = layout.build / "shape" / f"{profile}-{cap}-steps"
    return Layout(notebooks=layout.notebooks, book=scratch / "book", build=scratch / "build",
                  package=layout.package)


def _shape_run(args: argparse.Namespace, cap: int, layout: Layout) -> int:
    """``run`` with every step budget capped at ``cap``, into a scratch book and store."""
    scratch = shape_layout(layout, args.profile, cap)
    env = {MAX_STEPS_ENV: str(cap), STORE_ENV: str(scratch.build.parent / "store")}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # notebook kernels and Dask workers inherit them
    try:
        print(f"shape run: step budgets capped at {cap}; pages under {scratch.book}, results "
              f"in {env[STORE_ENV]}", file=sys.stderr)
        return _run(args, discover(scratch), scratch)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _run(args: argparse.Namespace, notebooks: list, layout: Layout) -> int:
    if args.workers is not None and args.workers <= 0:
        args.subparser.error(f"--workers must be a positive integer, got {args.workers}")
    try:
        params = preflight.parse_params(args.param)
        names = [item.partition("=")[0].strip() for item in args.param]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"parameter(s) given more than once: {', '.join(repeated)}")
        chosen = select(notebooks, args.notebooks, layout)
        if not chosen:
            raise ValueError(f"no notebooks found under {layout.notebooks}")
        with warnings.catch_warnings():  # a shape run's cap is announced once, above
            warnings.simplefilter("ignore", profiles.CappedStepsWarning)
            preflight.check_run_inputs(chosen, args.profile, params,
                                       explicit=bool(args.notebooks))
    except ValueError as exc:
        args.subparser.error(str(exc))
    if not args.yes and os.environ.get(YES_ENV, "") != "1" and _too_long_here(args, chosen,
                                                                               params):
        return 2
    with cluster(scheduler=args.scheduler, workers=args.workers) as client:
        outcomes = runner.run(chosen, args.profile, params, layout=layout, force=args.force,
                              quiet=args.quiet, client=client)
    not_run = [o.notebook.name for o in outcomes if o.status == NOT_RUN]
    if not_run:
        print(f"\nnot run, their data is missing (the book says so on their pages): "
              f"{', '.join(not_run)}", file=sys.stderr)
    failed = [o for o in outcomes if o.status == "FAILED"]
    if failed:
        print(f"\n{len(failed)} of {len(outcomes)} notebook(s) failed:", file=sys.stderr)
        for o in failed:
            print(f"  {o.notebook.name}: {o.detail}", file=sys.stderr)
        return 1
    return 0


def _chosen(args: argparse.Namespace, notebooks: list, layout: Layout
            ) -> tuple[list, dict[str, Any]]:
    params = preflight.parse_params(args.param)
    chosen = select(notebooks, args.notebooks, layout)
    if not chosen:
        raise ValueError(f"no notebooks found under {layout.notebooks}")
    return chosen, params


def _plan(args: argparse.Namespace, notebooks: list, layout: Layout) -> int:
    """``grokpaper plan``: the table (or JSON) of what the notebooks would train."""
    if args.max_steps is not None and args.max_steps <= 0:
        args.subparser.error(f"--max-steps must be a positive integer, got {args.max_steps}")
    try:
        chosen, params = _chosen(args, notebooks, layout)
        preflight.check_run_inputs(chosen, args.profile, params, explicit=bool(args.notebooks))
    except ValueError as exc:
        args.subparser.error(str(exc))
    device = args.device or default_device()
    found = None if args.no_times else planner.rates(device, args.throughput,
                                                     refresh=args.calibrate)
    pages = planner.page_plans(chosen, args.profile, params,
                               budget=planner.budget_for(device), max_steps=args.max_steps)
    plan = planner.as_dict(pages, found)
    if args.json:
        print(json.dumps({"profile": args.profile, "max_steps": args.max_steps,
                          "device": device, "budget_bytes": planner.budget_for(device),
                          "notes": list(found.notes) if found else [], **plan}, indent=1))
    else:
        print(f"plan: profile {args.profile}"
              + (f", step budgets capped at {args.max_steps}" if args.max_steps else "")
              + f"; ensembles sized for {device} "
              f"({planner.budget_for(device) / 2**30:.1f} GiB budget)\n")
        print(planner.table(plan, found))
    return 0


def _too_long_here(args: argparse.Namespace, chosen: list, params: dict[str, Any]) -> bool:
    """Whether a ``paper`` run on a CPU is predicted to take longer than ``ASK_ABOVE_S`` (then
    say so on stderr and ask for --yes)."""
    device = default_device()
    if args.profile != "paper" or not device.startswith("cpu"):
        return False
    print("planning the paper profile on this CPU (the first time, a calibration of ~1-2 "
          "minutes)...", file=sys.stderr)
    found = planner.rates(device)
    pages = planner.page_plans(chosen, args.profile, params,
                               budget=planner.budget_for(device), max_steps=profiles.max_steps())
    plan = planner.as_dict(pages, found)
    total = plan["total"]["seconds_here"]
    if total <= ASK_ABOVE_S:
        return False
    print(planner.table(plan, found), file=sys.stderr)
    print(f"\ngrokpaper run: the paper profile is predicted to take "
          f"{human_seconds(total)} on this CPU "
          f"(~{human_seconds(plan['total']['seconds_accelerator'])} on "
          f"{found.accelerator_name}); pass --yes (or set {YES_ENV}=1) to start it anyway",
          file=sys.stderr)
    return True


if __name__ == "__main__":
    sys.exit(main())
