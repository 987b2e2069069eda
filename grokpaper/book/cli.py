"""Command line: ``grokpaper run | plan | list | fetch | nbval-prepare`` (see ``grokpaper
--help``).

Everything a user types is checked before any notebook runs (so a typo never leaves a half-run
book or store behind): the profile, the notebook names, ``--workers``, and every ``-p NAME=VALUE``
against the chosen notebooks' ``parameters`` cells and the parameter dataclasses their
``profiles.resolve`` calls name (type, range, allowed choices, cross-field rules, memory),
the MNIST folder when an MNIST notebook is chosen, and the environment: the store, ``book/`` and
``build/`` must be writable and ``$GROKPAPER_DEVICE`` usable. A bad input ends the command with
one line on stderr, ``grokpaper run: error: ...``, naming what was wrong and what is allowed,
and exit status 2.

After the run, notebooks that failed (exit status 1) and damaged stored results that were
found and recomputed are listed on stderr.

``run --max-steps N`` is a shape run: every step budget capped at N
(:func:`grokpaper.core.profiles.cap_steps`), pages, build files and results under
``build/shape/<profile>-N-steps/``, never in ``book/`` or the user's store. ``run --profile
paper`` on a CPU (not a shape run) first asks ``grokpaper plan``
(:mod:`grokpaper.book.planner`) how long it would take and, above an hour, prints the plan and
the prediction and stops with exit status 2 unless given ``--yes`` or ``$GROKPAPER_YES=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

import grokpaper
from grokpaper.book import planner, preflight, runner
from grokpaper.book.cluster import cluster
from grokpaper.book.notebooks import Layout, discover, select
from grokpaper.core import profiles
from grokpaper.core.paths import STORE_ENV, absolute, default_device, pin_path_variables, store_root
from grokpaper.core.profiles import MAX_STEPS_ENV, PROFILE_NAMES
from grokpaper.core.verdicts import NOT_RUN

#: Setting this environment variable to 1 answers yes (``run --yes``).
YES_ENV = "GROKPAPER_YES"
#: A paper run predicted to take longer than this on a CPU asks for --yes first.
ASK_ABOVE_S = 3600.0


class _Parser(argparse.ArgumentParser):
    """Errors in one line (no usage block): ``grokpaper run: error: ... (see --help)``."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="grokpaper", description="Execute the book's notebooks under a profile.")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {grokpaper.__version__}")
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
    run.add_argument("--yes", action="store_true",
                     help=f"start a paper run even when the plan predicts hours on this CPU "
                          f"(or set {YES_ENV}=1)")
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="e.g. carvalho/fig3b_equidistant or its path (default: all)")
    run.set_defaults(subparser=run)

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
                      help="rates: a calibration or scripts/benchmark.py JSON (this machine or "
                           "a GPU), or an accelerator's figures (see BENCHMARKS.md)")
    plan.add_argument("--calibrate", action="store_true",
                      help="measure this machine again instead of using its cached calibration")
    plan.add_argument("--no-times", action="store_true",
                      help="counts only: no calibration, no predicted times")
    plan.add_argument("--json", action="store_true", help="print JSON instead of a table")
    plan.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="default: all")
    plan.set_defaults(subparser=plan)

    sub.add_parser("list", help="list the notebooks and their output pages")

    fetch = sub.add_parser("fetch", help="download a data set once (checksums verified)")
    fetch.add_argument("dataset", choices=["mnist"])
    fetch.add_argument("--to", type=Path, default=None, metavar="DIR",
                       help="folder to fetch into (default: $GROKPAPER_MNIST when set, else "
                            "data/mnist in the repository, where it is found without a setting)")
    fetch.add_argument("--if-missing", action="store_true",
                       help="only when no MNIST files are found; a failed download (offline) "
                            "is then a warning, and the MNIST pages say they were not run")

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
    # Paths typed relative to here: the notebook kernels run in book/<study>/.
    pin_path_variables()
    if args.command == "fetch":
        return fetch_mnist(args.to, if_missing=args.if_missing)
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

    if args.command == "plan":
        return _plan(args, notebooks, layout)

    if args.command == "list":
        root = layout.notebooks.parent
        for nb in notebooks:
            print(f"{nb.name:<40} {nb.source.relative_to(root)} -> {nb.output.relative_to(root)}")
        return 0

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
    """``grokpaper run``: pre-flight, then the notebooks, then what went wrong."""
    if args.workers is not None and args.workers <= 0:
        args.subparser.error(f"--workers must be a positive integer, got {args.workers}")
    try:
        params = preflight.parse_params(args.param)
        if isinstance(params.get("data_dir"), str):
            params["data_dir"] = str(absolute(params["data_dir"]))
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
        preflight.check_environment(layout)
    except ValueError as exc:
        args.subparser.error(str(exc))
    # A shape run (capped steps) is how to check a paper run cheaply: it never asks.
    if (args.profile == "paper" and not args.yes and os.environ.get(YES_ENV) != "1"
            and profiles.max_steps() is None and default_device().startswith("cpu")
            and planner.too_long(chosen, args.profile, params, limit_s=ASK_ABOVE_S)):
        print(f"grokpaper run: pass --yes (or set {YES_ENV}=1) to start it anyway",
              file=sys.stderr)
        return 2
    with cluster(scheduler=args.scheduler, workers=args.workers) as client:
        outcomes = runner.run(chosen, args.profile, params, layout=layout, force=args.force,
                              quiet=args.quiet, client=client)
    damaged = [(o.notebook.name, line) for o in outcomes for line in o.damage]
    if damaged:
        print(f"\n{len(damaged)} damaged stored result(s) were found, moved aside and recomputed "
              f"(each page that met one says so; also in {store_root() / 'damaged.log'}):",
              file=sys.stderr)
        for name, line in damaged:
            print(f"  {name}: {line}", file=sys.stderr)
    not_run = [o.notebook.name for o in outcomes if o.status == NOT_RUN]
    if not_run:
        print(f"\nnot run, their data is missing (the book says so on their pages): "
              f"{', '.join(not_run)}; online, `grokpaper fetch mnist` fetches MNIST once",
              file=sys.stderr)
    failed = [o for o in outcomes if o.status == "FAILED"]
    if failed:
        print(f"\n{len(failed)} of {len(outcomes)} notebook(s) failed:", file=sys.stderr)
        for o in failed:
            print(f"  {o.notebook.name}: {o.detail}", file=sys.stderr)
        return 1
    return 0


def _plan(args: argparse.Namespace, notebooks: list, layout: Layout) -> int:
    """``grokpaper plan``: the table (or JSON) of what the notebooks would train."""
    if args.max_steps is not None and args.max_steps <= 0:
        args.subparser.error(f"--max-steps must be a positive integer, got {args.max_steps}")
    try:
        params = preflight.parse_params(args.param)
        chosen = select(notebooks, args.notebooks, layout)
        if not chosen:
            raise ValueError(f"no notebooks found under {layout.notebooks}")
        preflight.check_run_inputs(chosen, args.profile, params, explicit=bool(args.notebooks))
    except ValueError as exc:
        args.subparser.error(str(exc))
    options: dict[str, Any] = {"max_steps": args.max_steps, "device": args.device,
                               "throughput": args.throughput, "calibrate": args.calibrate,
                               "times": not args.no_times, "as_json": args.json}
    print(planner.report(chosen, args.profile, params, **options))
    return 0


def fetch_mnist(to: Path | None, *, if_missing: bool = False) -> int:
    """``grokpaper fetch mnist``: download the four official files once (see
    :mod:`grokpaper.core.mnist_fetch`); returns the exit status."""
    # torch and torchvision only for this command: ~2-4 s that every other command would pay.
    from grokpaper.core import mnist_data, mnist_fetch

    try:
        found = mnist_data.find_dir(to)
    except mnist_data.MnistNotFound:
        found = None
    if found is not None and (if_missing or mnist_data.has_all_files(found)):
        print(f"grokpaper fetch: MNIST found in {found}; nothing to fetch")
        return 0
    try:
        folder = mnist_fetch.download(to)
    except (mnist_fetch.FetchFailed, OSError) as exc:  # OSError: e.g. a read-only folder
        if not if_missing:
            print(f"grokpaper fetch: error: {exc}", file=sys.stderr)
            return 1
        print(f"grokpaper fetch: MNIST not fetched ({exc}); the MNIST chapters will be pages "
              f"that say they were not run", file=sys.stderr)
        return 0
    print(f"grokpaper fetch: MNIST (training and test splits, checksums verified) in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
