"""Execute the book's notebooks with papermill under a profile, skipping unchanged ones.

Sources are jupytext percent-format ``notebooks/**/*.py``; each is executed into the mirrored
``book/**/*.ipynb`` (``notebooks/summary.py`` last, as it collects the other chapters' verdicts).
An executed notebook records the hash of its inputs (notebook text, package code, profile,
parameters; for the summary also the verdict files) in ``metadata.grokpaper``; a notebook whose
inputs are unchanged is not run again.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat

from grokpaper.core.paths import REPO_ROOT, store_root
from grokpaper.core.store import atomic_write_text
from grokpaper.core.verdicts import NOT_RUN  # also the status of a notebook whose data is missing

SUMMARY = "summary"
KERNEL = "python3"
#: The kernel's own log (e.g. ipykernel 7's "running over TCP" notice) would clutter batch logs.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]
KERNELSPEC = {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"}


@dataclass(frozen=True)
class Layout:
    """The folders the runner reads and writes (the repository's by default)."""

    notebooks: Path = REPO_ROOT / "notebooks"
    book: Path = REPO_ROOT / "book"
    build: Path = REPO_ROOT / "build"
    package: Path = REPO_ROOT / "grokpaper"


@dataclass(frozen=True)
class Notebook:
    """A notebook source and the page it is executed into."""

    name: str  # e.g. "carvalho/fig3b_equidistant"
    source: Path
    output: Path


@dataclass(frozen=True)
class Outcome:
    """What happened to one notebook in a run."""

    notebook: Notebook
    status: str  # "ran", "skipped", "FAILED" or NOT_RUN (data missing)
    seconds: float
    detail: str = ""


class UnknownNotebook(ValueError):
    """A notebook name that matches no source under ``notebooks/``."""


def discover(layout: Layout | None = None) -> list[Notebook]:
    """All notebooks, sorted by name with the summary last."""
    layout = layout or Layout()
    found = []
    for src in sorted(layout.notebooks.rglob("*.py")):
        rel = src.relative_to(layout.notebooks)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue  # helpers, caches, hidden files
        name = rel.with_suffix("").as_posix()
        found.append(Notebook(name, src, layout.book / rel.with_suffix(".ipynb")))
    return sorted(found, key=lambda nb: (nb.name == SUMMARY, nb.name))


def select(notebooks: list[Notebook], wanted: Iterable[str], layout: Layout | None = None
           ) -> list[Notebook]:
    """The notebooks named in ``wanted`` (names or paths), in run order; all if none."""
    layout = layout or Layout()
    wanted = list(wanted)
    if not wanted:
        return notebooks
    by_name = {nb.name: nb for nb in notebooks}
    names = {_name_of(arg, layout) for arg in wanted}
    unknown = sorted(names - by_name.keys())
    if unknown:
        raise UnknownNotebook(
            f"unknown notebook(s): {', '.join(unknown)}; available: {', '.join(by_name)}")
    return [nb for nb in notebooks if nb.name in names]


def _name_of(arg: str, layout: Layout) -> str:
    path = Path(arg)
    if path.suffix in (".py", ".ipynb"):
        path = path.with_suffix("")
    for root in (layout.notebooks, layout.book):
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix().removeprefix("./")


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """``["seeds=3", "fs=[0,0.2]", "tag=x"]`` -> ``{"seeds": 3, "fs": [0, 0.2], "tag": "x"}``."""
    params: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"parameter must look like name=value, got {item!r}")
        try:
            params[name.strip()] = json.loads(value)
        except json.JSONDecodeError:
            params[name.strip()] = value
    return params


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
    if nb.name == SUMMARY:
        for path in verdict_files(profile):
            add(f"verdicts:{path.name}", path.read_bytes())
    return digest.hexdigest()


def stored_hash(output: Path) -> str | None:
    """The input hash recorded in an executed notebook, if any."""
    try:
        return json.loads(output.read_text())["metadata"]["grokpaper"]["input_hash"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_source(nb: Notebook) -> nbformat.NotebookNode:
    """The jupytext source as an (unexecuted) notebook with a python3 kernelspec."""
    from papermill.iorw import load_notebook_node

    node = jupytext.read(nb.source)
    node.metadata["kernelspec"] = {**KERNELSPEC, **node.metadata.get("kernelspec", {})}
    return load_notebook_node(node)  # adds the metadata papermill's parameterize expects


def _relative(path: Path, layout: Layout) -> str:
    root = layout.notebooks.parent
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def execute(nb: Notebook, profile: str, params: dict[str, Any], *, layout: Layout | None = None,
            force: bool = False, progress: bool = False) -> Outcome:
    """Run one notebook into ``nb.output`` unless its inputs are unchanged (or ``force``)."""
    import papermill

    layout = layout or Layout()
    start = time.perf_counter()
    from grokpaper.book import missing_data

    why = missing_data.why_missing(nb, params)
    if why is not None:
        missing_data.write_not_run_page(nb, profile, params, why)
        return Outcome(nb, NOT_RUN, time.perf_counter() - start,
                       "no MNIST data: set GROKPAPER_MNIST or -p data_dir=... (README: MNIST data)")
    digest = input_hash(nb, profile, params, layout)
    if not force and stored_hash(nb.output) == digest:
        return Outcome(nb, "skipped", time.perf_counter() - start, "unchanged")
    nb.output.parent.mkdir(parents=True, exist_ok=True)
    layout.build.mkdir(parents=True, exist_ok=True)
    record = {"input_path": _relative(nb.source, layout),
              "output_path": _relative(nb.output, layout)}
    failed = layout.build / "failed" / f"{nb.name}.ipynb"
    failed.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=layout.build, prefix=".running-") as tmp:
        work = Path(tmp) / nb.output.name
        try:
            executed = _execute_with_retries(
                lambda: papermill.execute_notebook(
                    load_source(nb), str(work), parameters={"profile": profile, **params},
                    kernel_name=KERNEL, cwd=str(nb.output.parent), progress_bar=progress,
                    extra_arguments=KERNEL_ARGS))
        except Exception as exc:  # any failure is reported; the other notebooks still run
            failed.parent.mkdir(parents=True, exist_ok=True)
            if work.exists():  # papermill saved the notebook up to the failing cell
                partial = nbformat.read(work, as_version=4)
                partial.metadata.setdefault("papermill", {}).update(record)
                nbformat.write(partial, failed)
            reason = f"{type(exc).__name__}: {getattr(exc, 'evalue', exc)}".splitlines()[0]
            if failed.exists():
                reason += f" (failed notebook: {_relative(failed, layout)})"
            return Outcome(nb, "FAILED", time.perf_counter() - start, reason)
    executed.metadata.papermill.update(record)
    _fold_parameters(executed, remove=nb.name == SUMMARY)
    executed.metadata["grokpaper"] = {"input_hash": digest, "profile": profile,
                                      "parameters": params}
    atomic_write_text(nb.output, nbformat.writes(executed))
    return Outcome(nb, "ran", time.perf_counter() - start)


def _fold_parameters(node: nbformat.NotebookNode, *, remove: bool) -> None:
    """Fold the parameter cells (ours and papermill's injected record) on the page: they stay
    one click away as provenance; the landing page (the summary) drops them."""
    for cell in node.cells:
        tags = cell.metadata.setdefault("tags", [])
        if {"parameters", "injected-parameters"} & set(tags):
            tags.append("remove-cell" if remove else "hide-cell")


#: Attempts per notebook when the kernel itself fails (e.g. a port race when several kernels
#: start at once); an error raised by a cell is deterministic and is not retried.
KERNEL_ATTEMPTS = 3


def _execute_with_retries(call: Any) -> Any:
    from papermill.exceptions import PapermillExecutionError

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
    from tqdm import tqdm

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

    chapters = [nb for nb in notebooks if nb.name != SUMMARY]
    if client is not None and chapters:
        from grokpaper.book.cluster import run_notebooks

        run_notebooks(client, chapters, profile, params or {}, layout=layout or Layout(),
                      force=force, report=report)
        chapters = []
    for nb in chapters + [nb for nb in notebooks if nb.name == SUMMARY]:
        bar.set_postfix_str(nb.name)
        report(execute(nb, profile, params or {}, layout=layout, force=force,
                       progress=interactive))
    bar.close()
    return outcomes


def nbval_prepare(out: Path, profile: str = "smoke", layout: Layout | None = None) -> list[Path]:
    """Write every notebook, parameterized for ``profile`` but not executed, under ``out``;
    notebooks whose data is missing are left out (and named on stderr)."""
    from papermill.parameterize import parameterize_notebook

    from grokpaper.book.missing_data import why_missing

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
