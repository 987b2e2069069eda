"""Command line: ``grokpaper run | list | fetch | nbval-prepare`` (see ``grokpaper --help``).

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
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

import grokpaper
from grokpaper.book import preflight, runner
from grokpaper.book.cluster import cluster
from grokpaper.book.notebooks import Layout, discover, select
from grokpaper.core.paths import absolute, pin_path_variables, store_root
from grokpaper.core.profiles import PROFILE_NAMES
from grokpaper.core.verdicts import NOT_RUN


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
    run.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                     help="e.g. carvalho/fig3b_equidistant or its path (default: all)")
    run.set_defaults(subparser=run)

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
    notebooks = discover(layout)

    if args.command == "list":
        root = layout.notebooks.parent
        for nb in notebooks:
            print(f"{nb.name:<40} {nb.source.relative_to(root)} -> {nb.output.relative_to(root)}")
        return 0

    if args.command == "nbval-prepare":
        written = runner.nbval_prepare(args.out, args.profile, layout)
        print(f"wrote {len(written)} notebook(s) with profile={args.profile!r} under {args.out}")
        return 0

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
        preflight.check_run_inputs(chosen, args.profile, params, explicit=bool(args.notebooks))
        preflight.check_environment(layout)
    except ValueError as exc:
        args.subparser.error(str(exc))
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
