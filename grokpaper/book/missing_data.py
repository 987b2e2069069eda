"""Chapters whose data is missing (MNIST, for now): detect them, and write the page that says so.

A whole-book run without the data still builds: the chapter's page says it was not run and how
to fix that, and its verdicts become one "not run" row on the landing page.

:mod:`grokpaper.core.mnist_data` is imported only for a chapter that takes MNIST data: it
imports torch (~2-4 s), which a run without an MNIST chapter does not need.
"""

from __future__ import annotations

from typing import Any

import jupytext
import nbformat

from grokpaper.book.notebooks import KERNELSPEC, Notebook, notebook_parameters
from grokpaper.core import verdicts
from grokpaper.core.files import atomic_write_text


def why_missing(nb: Notebook, params: dict[str, Any]) -> str | None:
    """Why ``nb`` cannot run here (its data is missing), or None when it can."""
    # An MNIST chapter is one whose parameters cell takes ``data_dir``.
    if "data_dir" not in notebook_parameters(nb).defaults:
        return None
    from grokpaper.core import mnist_data as mnist  # torch: only here (module docstring)

    try:
        mnist.find_dir(params.get("data_dir"))
    except mnist.MnistNotFound as exc:
        return str(exc)
    return None


def write_not_run_page(nb: Notebook, profile: str, params: dict[str, Any], why: str) -> None:
    """Put a page in the book that says ``nb`` was not run and why, and replace the chapter's
    verdicts with one "not run" row, so that no verdict from an earlier run with the data
    outlives its page."""
    source = jupytext.read(nb.source)
    intro = next((c for c in source.cells if c.cell_type == "markdown"), None)
    title = (intro.source.strip().splitlines() or ["#"])[0].lstrip("#").strip() if intro else ""
    page = nbformat.v4.new_notebook()
    page.metadata["kernelspec"] = KERNELSPEC
    page.metadata["grokpaper"] = {"input_hash": None, "profile": profile, "parameters": params,
                                  "not_run": why}
    note = (f"**Not run in this build: its data is missing.** {why}\n\nThen rerun "
            f"`grokpaper run --profile {profile} {nb.name}` and build the book again. The "
            f"landing page lists this chapter's claims as *{verdicts.NOT_RUN}*.")
    page.cells = [*([nbformat.v4.new_markdown_cell(intro.source)] if intro else []),
                  nbformat.v4.new_markdown_cell(note)]
    nb.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(nb.output, nbformat.writes(page))
    verdicts.record(nb.name, [verdicts.Verdict(
        paper="(not run)", figure=title or nb.name, claim="every claim of this chapter",
        measured=f"not run: {why.split('(')[0].strip()}", verdict=verdicts.NOT_RUN,
        page=nb.name)], profile=profile)
