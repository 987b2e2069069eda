"""Packaging: one version everywhere, every imported distribution declared in pyproject.toml."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import grokpaper

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
RUNTIME = PYPROJECT["project"]["dependencies"]
# Our own top-level modules: the package, the tests, and scripts importing their siblings.
FIRST_PARTY = {"grokpaper", "tests", *(p.stem for p in (ROOT / "scripts").glob("*.py"))}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _name(requirement: str) -> str:
    return _norm(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))


def _extras(requirement: str) -> list[str]:
    match = re.match(r"[A-Za-z0-9._-]+\[([^\]]+)\]", requirement)
    return [e.strip() for e in match.group(1).split(",")] if match else []


def _declared(requirements: list[str]) -> set[str]:
    """Distribution names the requirements install: theirs, and those their extras pull in."""
    names = set()
    for req in requirements:
        names.add(_name(req))
        for extra in _extras(req):
            # dask[distributed] brings the `distributed` distribution that the code imports.
            try:
                requires = metadata.requires(_name(req)) or []
            except metadata.PackageNotFoundError:
                continue
            for sub in requires:
                if re.search(rf"extra\s*==\s*['\"]{re.escape(extra)}['\"]", sub):
                    names.add(_name(sub))
    return names


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _third_party(*folders: str) -> dict[str, set[str]]:
    """Distribution name -> files under `folders` that import it (stdlib and ours left out)."""
    to_dist = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for module in _imports(path) - FIRST_PARTY - set(sys.stdlib_module_names):
                # A module of no installed distribution is taken to be its own distribution.
                for dist in to_dist.get(module, [module]):
                    found.setdefault(_norm(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def _undeclared(folders: tuple[str, ...], requirements: list[str]) -> dict[str, list[str]]:
    declared = _declared(requirements)
    found = _third_party(*folders)
    return {dist: sorted(files) for dist, files in found.items() if dist not in declared}


def test_package_and_notebooks_import_only_runtime_dependencies():
    found = _third_party("grokpaper", "notebooks", "book/_ext")
    assert {"scipy", "torch", "ipython", "myst-nb"} <= set(found)  # the scan sees real imports
    missing = _undeclared(("grokpaper", "notebooks", "book/_ext"), RUNTIME)
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_scripts_and_tests_import_only_declared_dependencies():
    found = _third_party("scripts", "tests")
    assert {"pytest", "playwright", "cloudpickle"} <= set(found)
    optional = PYPROJECT["project"]["optional-dependencies"]
    missing = _undeclared(("scripts", "tests"), RUNTIME + optional["dev"] + optional["check"])
    assert not missing, f"imported but declared nowhere in pyproject.toml: {missing}"


def test_an_undeclared_import_is_caught(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        "import os\nimport numpy\nfrom grokpaper import core\n"
        "def f():\n    from yaml import safe_load\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    missing = _undeclared(("pkg",), RUNTIME)
    # PyYAML when it is installed (the import name maps to it), else the import name itself.
    assert list(missing) in (["pyyaml"], ["yaml"]) and missing[next(iter(missing))] == [
        "pkg/mod.py"
    ]


def test_version_has_one_source():
    # pyproject.toml reads it from grokpaper/__init__.py; CITATION.cff must repeat it (CFF has
    # no way to refer to another file).
    assert "version" not in PYPROJECT["project"]
    assert "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "grokpaper.__version__"
    }
    cff = re.search(r"^version:\s*['\"]?([^'\"\s]+)", (ROOT / "CITATION.cff").read_text(), re.M)
    assert cff and cff.group(1) == grokpaper.__version__


def test_version_written_nowhere_else():
    literal = re.compile(rf"(?<![\w.]){re.escape(grokpaper.__version__)}(?![\w.])")
    for name in ("pyproject.toml", "README.md", "_config.yml", "environment.yml", "Makefile"):
        for line in (ROOT / name).read_text().splitlines():
            assert not ("version" in line.lower() and literal.search(line)), (name, line)


def test_installed_metadata_agrees():
    try:
        installed = metadata.version("grokpaper")
    except metadata.PackageNotFoundError:
        pytest.skip("grokpaper is not installed (only on PYTHONPATH)")
    assert installed == grokpaper.__version__


def test_cli_version_is_the_one_version(capsys):
    from grokpaper.book import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"grokpaper {grokpaper.__version__}\n"
