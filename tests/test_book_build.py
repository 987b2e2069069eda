"""The documented commands a newcomer types: ``jupyter-book build book`` before (and between)
``grokpaper run`` (book/_ext/pages_to_run.py), and one chapter with plain papermill."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from grokpaper.book import runner
from grokpaper.book.notebooks import Notebook
from grokpaper.core.paths import REPO_ROOT

BIN = Path(sys.executable).parent
_spec = importlib.util.spec_from_file_location("pages_to_run",
                                               REPO_ROOT / "book" / "_ext" / "pages_to_run.py")
pages_to_run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pages_to_run)

SOURCE = ('# %% [markdown]\n# # {title}\n#\n# Text.\n\n'
          '# %% tags=["parameters"]\nprofile = "quick"\n')
TOC = "format: jb-book\nroot: summary\nchapters:\n  - file: a/ran\n  - file: a/later\n"


def _book(root: Path) -> Path:
    """A small repository: the real book configuration and extensions, a toc of three pages
    (the landing page and two chapters) and their notebook sources; nothing run."""
    book = root / "book"
    book.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "_config.yml", book / "_config.yml")
    shutil.copy(REPO_ROOT / "book" / "references.bib", book / "references.bib")
    shutil.copytree(REPO_ROOT / "book" / "_ext", book / "_ext",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (book / "_toc.yml").write_text(TOC)
    for name, title in (("summary", "Landing page"), ("a/ran", "Chapter that ran"),
                        ("a/later", "Fig. 5: a chapter $\\lambda_3$ not run")):
        src = root / "notebooks" / f"{name}.py"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(SOURCE.format(title=title))
    return book


def _build(book: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "jupyter-book"), "build", str(book), *args],
                          capture_output=True, text=True, timeout=600)


def _executed(path: Path, text: str) -> None:
    page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])
    page.metadata["grokpaper"] = {"input_hash": "abc", "profile": "quick"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(page, path)


def test_pages_to_run_tells_ran_from_missing_and_placeholder(tmp_path):
    book = _book(tmp_path)
    names = ["summary", "a/ran", "a/later", "references"]  # references: no notebook
    ran, missing = pages_to_run.pages_to_run(book, tmp_path / "notebooks", names)
    assert ran == [] and [nb.name for nb in missing] == ["summary", "a/ran", "a/later"]
    _executed(book / "a" / "ran.ipynb", "# Chapter that ran")
    later = Notebook("a/later", tmp_path / "notebooks" / "a" / "later.py",
                     book / "a" / "later.ipynb")
    pages_to_run.write_placeholder(later)
    assert pages_to_run.is_placeholder(later.output)
    assert not pages_to_run.is_placeholder(book / "a" / "ran.ipynb")
    ran, missing = pages_to_run.pages_to_run(book, tmp_path / "notebooks", names)
    assert [nb.name for nb in ran] == ["a/ran"]
    assert [nb.name for nb in missing] == ["summary", "a/later"]
    # grokpaper run executes a chapter over its "not run yet" page: no input hash to match.
    assert runner.stored_hash(later.output) is None
    page = nbformat.read(later.output, as_version=4)
    assert page.cells[0].source == "# Fig. 5: a chapter $\\lambda_3$ not run"
    assert "grokpaper run --profile quick a/later" in page.cells[1].source


def test_build_before_any_run_is_one_line_saying_to_run_the_notebooks(tmp_path):
    book = _book(tmp_path)
    done = _build(book)
    assert done.returncode == pages_to_run.NOTHING_RUN_STATUS
    assert done.stderr.strip() == pages_to_run.NOTHING_RUN
    assert "make book" in done.stderr and "grokpaper run" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr
    assert not (book / "a" / "later.ipynb").exists()  # nothing written


def test_build_after_a_partial_run_gives_not_run_yet_pages_without_a_warning(tmp_path):
    book = _book(tmp_path)
    _executed(book / "a" / "ran.ipynb", "# Chapter that ran\n\nIt ran.")
    done = _build(book, "-W", "-n", "--keep-going")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = book / "_build" / "html"
    assert "It ran." in (html / "a" / "ran.html").read_text()
    for page, title in (("a/later", "a chapter"), ("summary", "Landing page")):
        text = (html / f"{page}.html").read_text()
        assert "Not run yet." in text and title in text
    assert json.loads((book / "a" / "later.ipynb").read_text())["metadata"]["grokpaper"][
        pages_to_run.MARK] is True


def test_one_chapter_with_plain_papermill_through_the_jupytext_pipe(tmp_path, monkeypatch):
    """The README's second entry point, run as documented, in a folder of one's own."""
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)
    source = REPO_ROOT / "notebooks" / "carvalho" / "datasets.py"
    command = (f"set -o pipefail; '{BIN / 'jupytext'}' --to ipynb '{source}' -o - | "
               f"'{BIN / 'papermill'}' - out.ipynb -p profile smoke --no-progress-bar")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    [injected] = [c for c in out.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'profile = "smoke"' in injected.source
    assert not [o for c in out.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" and "image/png" in o.get("data", {})
               for c in out.cells if c.cell_type == "code" for o in c.outputs)
