"""Pages not run yet: a book built before (or between) ``grokpaper run`` says so, and builds.

Each page of ``_toc.yml`` that has a notebook source (``notebooks/<page>.py``) is written into
``book/`` by ``grokpaper run``. Before any of them ran (a fresh clone), ``jupyter-book build
book`` stops with one line that says to run the notebooks first, instead of Sphinx's wall of
errors and warnings. Once some ran (e.g. ``grokpaper run --profile quick
carvalho/fig3b_equidistant``), every page that did not is written as a short "not run yet" page,
so that the book builds, also with ``-W``. Such a page is a notebook at the page's own path,
with no input hash: ``grokpaper run`` executes the chapter over it like over a missing page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jupytext
import nbformat

from grokpaper.book.notebooks import KERNELSPEC, Layout, Notebook, discover

#: ``metadata.grokpaper.not_run_yet`` marks a page written here.
MARK = "not_run_yet"
#: Exit status of a build stopped because nothing has been run.
NOTHING_RUN_STATUS = 1
NOTHING_RUN = ("jupyter-book: no page of this book has been run yet: run the notebooks first "
               "with `make book` (runs them and builds the book), or `grokpaper run --profile "
               "quick` and then `jupyter-book build book`")


def is_placeholder(page: Path) -> bool:
    """Whether ``page`` is a "not run yet" page written here."""
    try:
        return bool(json.loads(page.read_text())["metadata"]["grokpaper"].get(MARK))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def pages_to_run(book: Path, notebooks: Path, docnames: list[str]) -> tuple[list[Notebook],
                                                                          list[Notebook]]:
    """(pages that ran, pages not run yet) among ``docnames`` with a notebook source; a page
    not run yet has no file or a "not run yet" page."""
    layout = Layout(notebooks=notebooks, book=book)
    by_name = {nb.name: nb for nb in discover(layout)}
    chapters = [by_name[name] for name in docnames if name in by_name]
    ran = [nb for nb in chapters if nb.output.is_file() and not is_placeholder(nb.output)]
    return ran, [nb for nb in chapters if nb not in ran]


def write_placeholder(nb: Notebook) -> None:
    """Write the "not run yet" page of ``nb``: its title and how to run it."""
    cells = jupytext.read(nb.source).cells
    intro = next((c.source for c in cells if c.cell_type == "markdown"), "")
    title = next((line for line in intro.splitlines() if line.startswith("# ")),
                 f"# {nb.name}")
    page = nbformat.v4.new_notebook()
    page.metadata["kernelspec"] = KERNELSPEC
    page.metadata["grokpaper"] = {"input_hash": None, MARK: True}
    page.cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_markdown_cell(
        f"**Not run yet.** `grokpaper run` writes this page by executing "
        f"`notebooks/{nb.name}.py`. Run it with `grokpaper run --profile quick {nb.name}` "
        f"(or the whole book with `make book`), then build the book again.")]
    nb.output.parent.mkdir(parents=True, exist_ok=True)
    nb.output.write_text(nbformat.writes(page))


def prepare(app: Any, config: Any) -> None:
    """Stop a build with nothing run; else write a page for each chapter not run yet."""
    book = Path(app.srcdir)
    site_map = getattr(config, "external_site_map", None)
    docnames = list(site_map) if site_map is not None else []
    ran, missing = pages_to_run(book, book.parent / "notebooks", docnames)
    if not ran and missing:
        print(NOTHING_RUN, file=sys.stderr)
        # SystemExit, not a Sphinx error: Jupyter Book prints a traceback for any exception.
        sys.exit(NOTHING_RUN_STATUS)
    for nb in missing:
        if not nb.output.is_file():
            write_placeholder(nb)


def setup(app: Any) -> dict:
    # After sphinx-external-toc has read _toc.yml (priority 900), before Sphinx looks for pages.
    app.connect("config-inited", prepare, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
