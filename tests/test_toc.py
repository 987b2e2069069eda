"""The table of contents lists every notebook once, and nothing that is not a page."""

import yaml

from grokpaper.book import notebooks
from grokpaper.core.paths import REPO_ROOT


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text())
    return [toc["root"], *(c["file"] for part in toc["parts"] for c in part["chapters"])]


def test_every_notebook_is_in_the_table_of_contents_once():
    files = toc_files()
    assert len(files) == len(set(files))
    pages = {p.stem for p in (REPO_ROOT / "book").glob("*.md")}
    assert set(files) == {nb.name for nb in notebooks.discover()} | pages
