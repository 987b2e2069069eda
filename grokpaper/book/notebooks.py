"""The book's notebooks: where their sources are, the page each becomes, what its parameters
cell declares. The bottom of ``grokpaper.book``: every other module of it builds on this one,
and this one imports none of them (nor any study).

Sources are jupytext percent-format ``notebooks/**/*.py``; each is executed into the mirrored
``book/**/*.ipynb``, ``notebooks/summary.py`` last (it collects the other chapters' verdicts),
after the pages that read the chapters' runs (``notebooks/cross/``).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jupytext
import nbformat

from grokpaper.core.paths import REPO_ROOT
from grokpaper.core.profiles import figures as known_figures

SUMMARY = "summary"
#: Folders of pages that read every chapter's runs from the store (the cross-examination):
#: they run after the chapters, before the summary (:func:`stage`).
AFTER_CHAPTERS = ("cross/",)
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
    status: str  # "ran", "skipped", "FAILED" or verdicts.NOT_RUN (data missing)
    seconds: float
    detail: str = ""
    #: Damaged stored results (or verdict files) the notebook found, one line each: they were
    #: moved aside and recomputed, and the page says so.
    damage: tuple[str, ...] = ()


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
    return sorted(found, key=lambda nb: (stage(nb.name), nb.name))


def stage(name: str) -> int:
    """When the page ``name`` runs: 0 the chapters (side by side on a cluster), 1 the pages
    that read their runs (:data:`AFTER_CHAPTERS`), 2 the summary, which reads every verdict."""
    if name == SUMMARY:
        return 2
    return 1 if name.startswith(AFTER_CHAPTERS) else 0


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


def load_source(nb: Notebook) -> nbformat.NotebookNode:
    """The jupytext source as an (unexecuted) notebook with a python3 kernelspec."""
    # papermill only where a notebook is executed or prepared: importing it would slow down
    # every `grokpaper --help`, `list` and pre-flight error (~0.1-0.2 s).
    from papermill.iorw import load_notebook_node

    node = jupytext.read(nb.source)
    node.metadata["kernelspec"] = {**KERNELSPEC, **node.metadata.get("kernelspec", {})}
    return load_notebook_node(node)  # adds the metadata papermill's parameterize expects


# --- What a notebook's parameters cell declares, read from its source (nothing executes).


@dataclass(frozen=True)
class NotebookParameters:
    """What a notebook's ``parameters`` cell declares and where the values go."""

    name: str
    defaults: dict[str, Any]  # parameters cell: name -> literal default (None if not literal)
    #: ``profiles.resolve(figure, module.Class, profile, field=name, ...)`` calls: (figures,
    #: "module:Class", {notebook parameter: dataclass field}); several figures where the call
    #: is in a loop. The class is imported only when a parameter needs it.
    resolves: list[tuple[list[str], str, dict[str, str]]]

    def field_of(self, name: str) -> tuple[type, str] | None:
        """(parameter dataclass, field) that parameter ``name`` is passed to, if any."""
        for _, where, mapping in self.resolves:
            if name in mapping:
                return load_class(where), mapping[name]
        return None


def load_class(where: str) -> type:
    """The class named ``"package.module:Class"`` (imported on demand: a study's module)."""
    module, _, attr = where.partition(":")
    return getattr(importlib.import_module(module), attr)


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for kv in value.items() for v in kv for s in _strings_in(v)]
    if isinstance(value, (list, tuple, set)):
        return [s for v in value for s in _strings_in(v)]
    return []


def _assigned(stmt: ast.stmt) -> str | None:
    """The name a plain ``name = value`` statement assigns, else None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
            stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def notebook_parameters(nb: Notebook) -> NotebookParameters:
    """Read ``nb``'s parameters cell and its ``profiles.resolve`` calls (nothing executes)."""
    cells = [c for c in jupytext.read(nb.source).cells if c.cell_type == "code"]
    first = next((i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])),
                 None)
    if first is None:
        return NotebookParameters(nb.name, {}, [])
    defaults = {name: _literal(stmt.value) for stmt in ast.parse(cells[first].source).body
                if (name := _assigned(stmt)) is not None}
    modules: dict[str, str] = {}
    literals: dict[str, Any] = {}
    calls: list[ast.Call] = []
    for cell in cells[first + 1:]:
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue  # cell magics and the like: nothing to learn from them
        literals.update({name: _literal(stmt.value) for stmt in tree.body
                         if (name := _assigned(stmt)) is not None})
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        modules[alias.asname] = alias.name
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "resolve" and isinstance(node.func.value, ast.Name)
                  and node.func.value.id == "profiles" and len(node.args) >= 2):
                calls.append(node)
    resolves = []
    for call in calls:
        fig, cls_node = call.args[0], call.args[1]
        if isinstance(fig, ast.Constant) and isinstance(fig.value, str):
            figures = [fig.value]
        elif isinstance(fig, ast.Name) and isinstance(literals.get(fig.id), str):
            figures = [literals[fig.id]]
        else:  # e.g. a loop over a dict of figures: every figure name the notebook spells out
            figures = sorted({s for v in literals.values() for s in _strings_in(v)
                              if s in known_figures()})
        if not (isinstance(cls_node, ast.Attribute) and isinstance(cls_node.value, ast.Name)
                and cls_node.value.id in modules):
            continue  # not a form this check reads: the notebook checks its own values
        mapping = {kw.value.id: kw.arg for kw in call.keywords
                   if kw.arg and isinstance(kw.value, ast.Name) and kw.value.id in defaults}
        resolves.append((figures, f"{modules[cls_node.value.id]}:{cls_node.attr}", mapping))
    return NotebookParameters(nb.name, defaults, resolves)
