"""Execute the book's notebooks with papermill under a profile, skipping unchanged ones.

Each source ``notebooks/**/*.py`` is executed into its page ``book/**/*.ipynb`` (see
:mod:`grokpaper.book.notebooks`), the summary last, in this process or as tasks on a Dask
cluster (:mod:`grokpaper.book.cluster`). An executed notebook records the hash of its inputs
(notebook text, package code, profile, parameters, the store it read and wrote, a shape run's
step cap; for the summary, and the pages that read the chapters' runs, also the chapters'
verdict files, which change when a chapter reruns) in ``metadata.grokpaper``, with the checksum
of the verdict file the chapter wrote. A notebook is not run again while its inputs are
unchanged and its verdict file is the one it wrote (a missing or damaged verdict file reruns
the chapter). A chapter whose data is missing gets a page saying so instead
(:mod:`grokpaper.book.missing_data`).

Damaged stored results a notebook met (reported by the store as warnings in the kernel) are
listed at the top of its page (:mod:`grokpaper.book.pages`) and in the run's outcome. A write
error (a read-only ``book/``, a full disk) fails that notebook, with one line saying what to
fix, and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat
from tqdm import tqdm

from grokpaper.book.cluster import run_notebooks
from grokpaper.book.missing_data import why_missing, write_not_run_page
from grokpaper.book.notebooks import (
    KERNEL,
    KERNEL_ARGS,
    SUMMARY,
    Layout,
    Notebook,
    Outcome,
    discover,
    load_source,
    stage,
)
from grokpaper.book.pages import damage_found, fold_parameters, note_damage
from grokpaper.core import claims, files, verdicts
from grokpaper.core.files import atomic_write_text
from grokpaper.core.paths import store_root
from grokpaper.core.profiles import max_steps
from grokpaper.core.verdicts import NOT_RUN  # also the status of a notebook whose data is missing

#: A folder the runner executes a notebook in (under ``build/``), with its owner inside.
RUNNING_PREFIX, OWNER_FILE = ".running-", "owner.json"


def verdict_files(profile: str) -> list[Path]:
    """The verdict files of ``profile`` (inputs of the summary notebook)."""
    folder = store_root() / "verdicts" / profile
    return sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []


def input_hash(nb: Notebook, profile: str, params: dict[str, Any],
               layout: Layout | None = None) -> str:
    """Hash of everything a notebook's output depends on (see module docstring)."""
    layout = layout or Layout()
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("notebook", nb.source.read_bytes())
    for path in sorted(layout.package.rglob("*.py")):
        add(f"package:{path.relative_to(layout.package).as_posix()}", path.read_bytes())
    add("profile", profile.encode())
    add("parameters", json.dumps(params, sort_keys=True).encode())
    add("store", str(store_root()).encode())  # where its results and verdicts live
    cap = max_steps()
    if cap is not None:  # a shape run's pages are not the profile's (absent: hashes unchanged)
        add("max_steps", str(cap).encode())
    if stage(nb.name) > 0:
        own = verdicts.path_of(nb.name, profile=profile).name  # its own output: not an input
        for path in verdict_files(profile):
            if path.name != own:
                add(f"verdicts:{path.name}", path.read_bytes())
    return digest.hexdigest()


def _recorded(output: Path) -> dict[str, Any]:
    """The ``metadata.grokpaper`` record of an executed notebook ({} if none)."""
    try:
        record = json.loads(output.read_text())["metadata"]["grokpaper"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return record if isinstance(record, dict) else {}


def stored_hash(output: Path) -> str | None:
    """The input hash recorded in an executed notebook, if any."""
    return _recorded(output).get("input_hash")


def up_to_date(nb: Notebook, profile: str, digest: str) -> bool:
    """Whether ``nb``'s page was built from these inputs and its verdict file is still the one
    it wrote (the same bytes, or none for a chapter that records none)."""
    record = _recorded(nb.output)
    return (record.get("input_hash") == digest and "verdicts_sha256" in record
            and record["verdicts_sha256"] == verdicts.file_digest(nb.name, profile=profile))


def _relative(path: Path, layout: Layout) -> str:
    root = layout.notebooks.parent
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _write_failure(exc: OSError, what: Path, layout: Layout) -> str:
    """One line for a write error: what could not be written, why, what to do."""
    where = _relative(what, layout)
    return (f"cannot write {where}: {exc.strerror or exc}; make room or make it writable, "
            f"then rerun")


def execute(nb: Notebook, profile: str, params: dict[str, Any], *, layout: Layout | None = None,
            force: bool = False, progress: bool = False) -> Outcome:
    """Run one notebook into ``nb.output`` unless it is up to date (or ``force``)."""
    layout = layout or Layout()
    start = time.perf_counter()
    try:
        return _execute(nb, profile, params, layout, force, progress, start)
    except OSError as exc:  # writing the page, the build folder or the store failed
        return Outcome(nb, "FAILED", time.perf_counter() - start,
                       _write_failure(exc, Path(exc.filename or nb.output), layout))


def _execute(nb: Notebook, profile: str, params: dict[str, Any], layout: Layout, force: bool,
             progress: bool, start: float) -> Outcome:
    # papermill only where a notebook is executed: importing it would slow down every
    # `grokpaper --help`, `list` and pre-flight error (~0.1-0.2 s).
    import papermill

    why = why_missing(nb, params)
    if why is not None:
        write_not_run_page(nb, profile, params, why)
        return Outcome(nb, NOT_RUN, time.perf_counter() - start,
                       "no MNIST data: set GROKPAPER_MNIST or -p data_dir=... (README: MNIST data)")
    digest = input_hash(nb, profile, params, layout)
    if not force and up_to_date(nb, profile, digest):
        return Outcome(nb, "skipped", time.perf_counter() - start, "unchanged")
    nb.output.parent.mkdir(parents=True, exist_ok=True)
    layout.build.mkdir(parents=True, exist_ok=True)
    record = {"input_path": _relative(nb.source, layout),
              "output_path": _relative(nb.output, layout)}
    failed = layout.build / "failed" / f"{nb.name}.ipynb"
    failed.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=layout.build, prefix=RUNNING_PREFIX) as tmp:
        (Path(tmp) / OWNER_FILE).write_text(json.dumps(claims.me()))  # see sweep_leftovers
        work = Path(tmp) / nb.output.name
        try:
            executed = _execute_with_retries(
                lambda: papermill.execute_notebook(
                    load_source(nb), str(work), parameters={"profile": profile, **params},
                    kernel_name=KERNEL, cwd=str(nb.output.parent), progress_bar=progress,
                    extra_arguments=KERNEL_ARGS))
        except Exception as exc:  # any failure is reported; the other notebooks still run
            failed.parent.mkdir(parents=True, exist_ok=True)
            damage: tuple[str, ...] = ()
            if work.exists():  # papermill saved the notebook up to the failing cell
                partial = nbformat.read(work, as_version=4)
                partial.metadata.setdefault("papermill", {}).update(record)
                damage = damage_found(partial)
                nbformat.write(partial, failed)
            reason = f"{type(exc).__name__}: {getattr(exc, 'evalue', exc)}".splitlines()[0]
            if failed.exists():
                reason += f" (failed notebook: {_relative(failed, layout)})"
            return Outcome(nb, "FAILED", time.perf_counter() - start, reason, damage)
    executed.metadata.papermill.update(record)
    fold_parameters(executed, remove=nb.name == SUMMARY)
    damage = damage_found(executed)
    if damage:
        note_damage(executed, damage)
    executed.metadata["grokpaper"] = {
        "input_hash": digest, "profile": profile, "parameters": params,
        "max_steps": max_steps(), "verdicts_sha256": verdicts.file_digest(nb.name,
                                                                          profile=profile)}
    text = nbformat.writes(executed)
    try:
        atomic_write_text(nb.output, text)
    except OSError as exc:  # keep what was executed: a rerun would redo all of it
        try:
            atomic_write_text(failed, text)
            kept = f"; the executed notebook is kept in {_relative(failed, layout)}"
        except OSError:
            kept = ""
        return Outcome(nb, "FAILED", time.perf_counter() - start,
                       _write_failure(exc, nb.output, layout) + kept, damage)
    detail = f"{len(damage)} damaged stored result(s) recomputed, see the page" if damage else ""
    return Outcome(nb, "ran", time.perf_counter() - start, detail, damage)


#: Attempts per notebook when the kernel itself fails (e.g. a port race when several kernels
#: start at once); an error raised by a cell is deterministic and is not retried.
KERNEL_ATTEMPTS = 3


def _execute_with_retries(call: Any) -> Any:
    from papermill.exceptions import PapermillExecutionError  # as in execute()

    for attempt in range(1, KERNEL_ATTEMPTS + 1):
        try:
            return call()
        except PapermillExecutionError:
            raise
        except Exception:
            if attempt == KERNEL_ATTEMPTS:
                raise
            time.sleep(2.0 * attempt)
    raise AssertionError("unreachable")


def run(notebooks: list[Notebook], profile: str, params: dict[str, Any] | None = None, *,
        layout: Layout | None = None, force: bool = False, quiet: bool = False,
        client: Any = None) -> list[Outcome]:
    """Execute ``notebooks``, reporting one line each; returns every outcome.

    With a Dask ``client`` the chapters run as tasks on its workers (in any order, see
    :func:`grokpaper.book.cluster.run_notebooks`) and the summary runs here once they are done;
    without one, in order in this process.
    """
    for path in sweep_leftovers(layout or Layout()):
        print(f"swept leftover {path} (older than {files.LEFTOVER_AGE_S:.0f} s)", file=sys.stderr)
    interactive = not quiet and sys.stderr.isatty()
    bar = tqdm(total=len(notebooks), desc=f"notebooks ({profile})", unit="nb",
               disable=not interactive)
    outcomes = []

    def report(outcome: Outcome) -> None:
        outcomes.append(outcome)
        bar.update(1)
        line = (f"{outcome.notebook.name:<40} {outcome.status:<8} {outcome.seconds:7.1f}s  "
                f"{outcome.detail}")
        tqdm.write(line.rstrip(), file=sys.stdout)

    # The chapters first (side by side on a cluster), then the pages reading their runs and
    # verdicts, in this process, in stage order.
    chapters = [nb for nb in notebooks if stage(nb.name) == 0]
    if client is not None and chapters:
        run_notebooks(client, chapters, profile, params or {}, layout=layout or Layout(),
                      force=force, report=report, execute=execute)
        chapters = []
    for nb in chapters + sorted((nb for nb in notebooks if stage(nb.name) > 0),
                                key=lambda nb: (stage(nb.name), nb.name)):
        bar.set_postfix_str(nb.name)
        report(execute(nb, profile, params or {}, layout=layout, force=force,
                       progress=interactive))
    bar.close()
    return outcomes


def sweep_leftovers(layout: Layout) -> list[Path]:
    """Delete what killed writers left behind (see :mod:`grokpaper.core.files`): temp files in
    the store and the book, the store's released claims, and ``build/.running-*`` folders
    whose runner is gone (and that are older than :data:`~grokpaper.core.files.LEFTOVER_AGE_S`
    as well)."""
    store = store_root()
    swept = [*files.sweep_leftovers(store), *files.sweep_leftovers(layout.book),
             *claims.Claims(store / "claims").sweep()]

    def running(path: Path) -> bool:
        return path.name.startswith(RUNNING_PREFIX)

    def alive(path: Path) -> bool:
        try:
            owner = json.loads((path / OWNER_FILE).read_text())
        except (OSError, ValueError):
            return False  # no owner recorded: judged by age alone
        return isinstance(owner, dict) and not claims.owner_gone(owner, 0.0)

    return [*swept, *files.sweep_leftovers(layout.build, match=running, keep=alive,
                                           recursive=False)]


def nbval_prepare(out: Path, profile: str = "smoke", layout: Layout | None = None) -> list[Path]:
    """Write every notebook, parameterized for ``profile`` but not executed, under ``out``;
    notebooks whose data is missing are left out (and named on stderr)."""
    from papermill.parameterize import parameterize_notebook  # as in execute()

    layout = layout or Layout()
    written = []
    for nb in discover(layout):
        if why_missing(nb, {}) is not None:
            print(f"nbval-prepare: {nb.name} left out: no MNIST data (set GROKPAPER_MNIST)",
                  file=sys.stderr)
            continue
        node = parameterize_notebook(load_source(nb), {"profile": profile},
                                     kernel_name=KERNEL, language="python")
        path = out / nb.output.relative_to(layout.book)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(node, path)
        written.append(path)
    return written
