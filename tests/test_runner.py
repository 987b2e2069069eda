"""Tests of the notebook runner: discovery, CLI errors, parameters, input hash, skip, failure."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grokpaper.book import cli, preflight, runner
from grokpaper.book.missing_data import why_missing
from grokpaper.book.notebooks import Layout, UnknownNotebook, discover, select
from grokpaper.core.verdicts import NOT_RUN

TINY = '# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\nprint("profile", profile)\n'
FAILING = '# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\nraise RuntimeError("boom")\n'


def make_layout(root: Path, notebooks: dict[str, str]) -> Layout:
    """A throwaway repository layout holding ``notebooks`` (name -> source) and a package."""
    layout = Layout(notebooks=root / "notebooks", book=root / "book", build=root / "build",
                    package=root / "pkg")
    for name, text in notebooks.items():
        path = layout.notebooks / f"{name}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    layout.package.mkdir(parents=True)
    (layout.package / "core.py").write_text("X = 1\n")
    return layout


def test_discover_mirrors_paths_and_runs_summary_last(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"summary": TINY, "zeta": TINY, "carvalho/fig3b": TINY,
                                    "_helper": TINY, "carvalho/__init__": ""})
    found = discover(layout)
    assert [nb.name for nb in found] == ["carvalho/fig3b", "zeta", "summary"]
    assert found[0].source == layout.notebooks / "carvalho" / "fig3b.py"
    assert found[0].output == layout.book / "carvalho" / "fig3b.ipynb"


def test_select_by_name_or_path_keeps_run_order(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"summary": TINY, "carvalho/fig3b": TINY, "b": TINY})
    found = discover(layout)
    chosen = select(
        found, ["summary", str(layout.notebooks / "carvalho" / "fig3b.py")], layout)
    assert [nb.name for nb in chosen] == ["carvalho/fig3b", "summary"]
    assert select(found, [], layout) == found
    with pytest.raises(UnknownNotebook, match="available: b, carvalho/fig3b, summary"):
        select(found, ["carvalho/nope"], layout)


def test_cli_unknown_notebook_exits_2_listing_available(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--profile", "smoke", "no/such_notebook"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "unknown notebook(s): no/such_notebook" in err and "available:" in err
    assert "summary" in err


def test_cli_bad_profile_lists_allowed(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--profile", "huge"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "huge" in err and all(name in err for name in ("smoke", "quick", "paper"))


def test_cli_bad_parameter_exits_2(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--profile", "smoke", "-p", "novalue"])
    assert exc.value.code == 2
    assert "name=value" in capsys.readouterr().err


def test_parse_params_json_else_string() -> None:
    assert preflight.parse_params(
        ["seeds=3", "fs=[0,0.2]", "tag=abc", "on=true", "x=", "s=a=b"]) == {
            "seeds": 3, "fs": [0, 0.2], "tag": "abc", "on": True, "x": "", "s": "a=b"}
    assert preflight.parse_params([]) == {}
    for bad in ("seeds", "=3", "1x=2"):
        with pytest.raises(ValueError, match="name=value"):
            preflight.parse_params([bad])


def test_input_hash_tracks_every_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = make_layout(tmp_path, {"chap": TINY})
    [nb] = discover(layout)

    def digest(profile: str = "smoke", params: dict | None = None) -> str:
        return runner.input_hash(nb, profile, params or {}, layout)

    base = digest()
    assert digest() == base  # stable
    assert digest("quick") != base
    assert digest(params={"seeds": 3}) != base
    assert digest(params={"seeds": 3}) == digest(params={"seeds": 3})
    (tmp_path / "store" / "verdicts" / "smoke").mkdir(parents=True)
    (tmp_path / "store" / "verdicts" / "smoke" / "x.json").write_text("[]")
    assert digest() == base  # verdicts only matter to the summary
    nb.source.write_text(TINY + "\n# %%\n1\n")
    changed_nb = digest()
    assert changed_nb != base
    (layout.package / "core.py").write_text("X = 2\n")
    changed_pkg = digest()
    assert changed_pkg != changed_nb
    (layout.package / "sub").mkdir()
    (layout.package / "sub" / "new.py").write_text("")
    assert digest() != changed_pkg


def test_summary_hash_includes_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = make_layout(tmp_path, {"summary": TINY})
    [nb] = discover(layout)
    base = runner.input_hash(nb, "smoke", {}, layout)
    folder = tmp_path / "store" / "verdicts" / "smoke"
    folder.mkdir(parents=True)
    (folder / "chap.json").write_text("[]")
    with_file = runner.input_hash(nb, "smoke", {}, layout)
    assert with_file != base
    (folder / "chap.json").write_text('[{"verdict": "supported"}]')
    assert runner.input_hash(nb, "smoke", {}, layout) != with_file
    assert runner.input_hash(nb, "quick", {}, layout) == runner.input_hash(
        nb, "quick", {}, layout)  # other profiles' verdicts are not inputs


def test_second_run_skips_unchanged_notebook(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"tiny": TINY})
    found = discover(layout)
    [first] = runner.run(found, "smoke", {"extra": 1}, layout=layout, quiet=True)
    assert first.status == "ran", first.detail
    output = json.loads((layout.book / "tiny.ipynb").read_text())
    meta = output["metadata"]
    assert meta["grokpaper"]["profile"] == "smoke"
    assert meta["grokpaper"]["parameters"] == {"extra": 1}
    assert meta["papermill"]["parameters"] == {"profile": "smoke", "extra": 1}
    assert meta["papermill"]["input_path"] == "notebooks/tiny.py"
    injected = [c for c in output["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    assert 'profile = "smoke"' in "".join(injected[0]["source"])
    params = [c for c in output["cells"] if "parameters" in c["metadata"]["tags"]]
    assert all("hide-cell" in c["metadata"]["tags"] for c in params + injected)
    executed = nbformat.read(layout.book / "tiny.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "profile smoke" in printed

    [second] = runner.run(found, "smoke", {"extra": 1}, layout=layout, quiet=True)
    assert second.status == "skipped"
    assert json.loads((layout.book / "tiny.ipynb").read_text()) == output
    [forced] = runner.run(found, "smoke", {"extra": 1}, layout=layout, quiet=True, force=True)
    assert forced.status == "ran"


def test_failing_notebook_leaves_book_untouched(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"bad": FAILING, "good": TINY})
    outcomes = runner.run(discover(layout), "smoke", layout=layout, quiet=True)
    assert [(o.notebook.name, o.status) for o in outcomes] == [("bad", "FAILED"), ("good", "ran")]
    assert "boom" in outcomes[0].detail and "build/failed/bad.ipynb" in outcomes[0].detail
    assert sorted(p.name for p in layout.book.iterdir()) == ["good.ipynb"]
    assert (layout.build / "failed" / "bad.ipynb").exists()
    assert [p.name for p in layout.build.iterdir()] == ["failed"]  # no temp leftovers

    # A notebook that fails on rerun keeps its previous good output.
    good = layout.notebooks / "good.py"
    before = (layout.book / "good.ipynb").read_text()
    good.write_text(FAILING)
    [again] = runner.run(discover(layout)[1:], "smoke", layout=layout, quiet=True)
    assert again.status == "FAILED"
    assert (layout.book / "good.ipynb").read_text() == before


def test_nbval_prepare_injects_profile(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"summary": TINY, "carvalho/fig": TINY})
    written = runner.nbval_prepare(tmp_path / "out", "smoke", layout)
    out = tmp_path / "out"
    assert written == [out / "carvalho" / "fig.ipynb", out / "summary.ipynb"]
    cells = json.loads(written[0].read_text())["cells"]
    assert not any(c.get("outputs") for c in cells if c["cell_type"] == "code")
    injected = [c for c in cells if "injected-parameters" in c["metadata"]["tags"]]
    assert 'profile = "smoke"' in "".join(injected[0]["source"])


def test_summary_drops_parameter_cells_from_the_landing_page(tmp_path: Path) -> None:
    layout = make_layout(tmp_path, {"summary": TINY})
    [out] = runner.run(discover(layout), "smoke", layout=layout, quiet=True)
    assert out.status == "ran", out.detail
    cells = json.loads((layout.book / "summary.ipynb").read_text())["cells"]
    fold = {"parameters", "injected-parameters"}
    marked = [c for c in cells if fold & set(c["metadata"]["tags"])]
    assert len(marked) == 2
    assert all("remove-cell" in c["metadata"]["tags"] for c in marked)


MNIST_NB = ('# %% [markdown]\n# # Grokking on MNIST (a test chapter)\n#\n# The claim.\n\n'
            '# %% tags=["parameters"]\nprofile = "quick"\ndata_dir = None\n\n'
            '# %%\nraise RuntimeError("must not run without data")\n')


def test_chapter_without_its_data_gets_a_not_run_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grokpaper.core import studies, verdicts

    monkeypatch.delenv("GROKPAPER_MNIST", raising=False)
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = make_layout(tmp_path, {"mnist/curves": MNIST_NB, "other": TINY})
    stale = verdicts.Verdict(paper=studies.LIU.name, figure="Fig. 8", claim="c", measured="m",
                             verdict="supported", page="mnist/curves")
    verdicts.record("mnist/curves", [stale], profile="smoke")

    outcomes = runner.run(discover(layout), "smoke", layout=layout, quiet=True)
    assert [(o.notebook.name, o.status) for o in outcomes] == [
        ("mnist/curves", NOT_RUN), ("other", "ran")]
    page = nbformat.read(layout.book / "mnist" / "curves.ipynb", as_version=4)
    assert page.metadata["grokpaper"]["not_run"].startswith("No MNIST files found")
    assert page.metadata["grokpaper"]["input_hash"] is None  # runs as soon as data appears
    assert page.cells[0].source.startswith("# Grokking on MNIST")
    assert "Not run in this build" in page.cells[1].source
    assert "GROKPAPER_MNIST" in page.cells[1].source
    [row] = verdicts.load_all(profile="smoke")  # the stale verdict is gone with its page
    assert (row.verdict, row.page) == (verdicts.NOT_RUN, "mnist/curves")
    assert row.figure == "Grokking on MNIST (a test chapter)"
    assert not (layout.build / "failed").exists()


def test_chapter_with_its_data_runs_and_nbval_leaves_out_only_missing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv("GROKPAPER_MNIST", raising=False)
    layout = make_layout(tmp_path, {"mnist/curves": MNIST_NB, "other": TINY})
    [mnist_nb, other] = discover(layout)
    assert why_missing(mnist_nb, {}).startswith("No MNIST files found")
    assert why_missing(other, {}) is None
    written = runner.nbval_prepare(tmp_path / "out", "smoke", layout)
    assert written == [tmp_path / "out" / "other.ipynb"]
    assert "mnist/curves left out: no MNIST data" in capsys.readouterr().err

    data = tmp_path / "mnist"
    data.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (data / name).write_bytes(b"")
    assert why_missing(mnist_nb, {"data_dir": str(data)}) is None
    monkeypatch.setenv("GROKPAPER_MNIST", str(data))
    assert why_missing(mnist_nb, {}) is None
    assert len(runner.nbval_prepare(tmp_path / "out2", "smoke", layout)) == 2
    [ran] = runner.run([mnist_nb], "smoke", layout=layout, quiet=True)
    assert ran.status == "FAILED" and "must not run without data" in ran.detail


# --- faults (issue 15): damage on the page, switched stores, damaged verdicts, write errors ---

DAMAGING = ('# %% [markdown]\n# # A chapter\n\n# %% tags=["parameters"]\nprofile = "quick"\n\n'
            '# %%\nimport numpy as np\nfrom grokpaper.core.store import Store\n\n'
            'store = Store()\npath = store.save("k", "ab" * 16, {"x": np.zeros(3)}, {})\n'
            'path.write_bytes(path.read_bytes()[:50])\n'
            'assert store.load("k", "ab" * 16) is None\n')
RECORDING = ('# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\n'
             'from grokpaper.core import verdicts\n\n'
             'verdicts.record("chap", [verdicts.Verdict(paper="P", figure="F", claim="c", '
             'measured="m", verdict="supported", page="chap")], profile=profile)\n')


def test_damage_found_while_a_page_ran_is_on_the_page_and_in_the_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = make_layout(tmp_path, {"chap": DAMAGING, "other": TINY})
    assert cli.main(["run", "--profile", "smoke", "--quiet"], layout=layout) == 0
    out, err = capsys.readouterr()
    assert "1 damaged stored result(s) recomputed, see the page" in out
    assert "1 damaged stored result(s) were found, moved aside and recomputed" in err
    assert f"chap: damaged result {tmp_path / 'store'}" in err and "unreadable" in err
    page = nbformat.read(layout.book / "chap.ipynb", as_version=4)
    assert page.cells[0].source.startswith("# A chapter")
    assert page.cells[1].source.startswith("```{warning}\nThe result store held 1 damaged")
    assert "abababab" in page.cells[1].source
    other = nbformat.read(layout.book / "other.ipynb", as_version=4)
    assert not any("warning" in c.source for c in other.cells if c.cell_type == "markdown")


def test_a_switched_store_or_a_missing_verdict_file_reruns_the_chapter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    layout = make_layout(tmp_path, {"chap": RECORDING})
    found = discover(layout)

    def status() -> str:
        [out] = runner.run(found, "smoke", layout=layout, quiet=True)
        return out.status

    assert status() == "ran" and status() == "skipped"
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "empty"))
    assert status() == "ran"  # the page's verdicts now go to the new store
    assert (tmp_path / "empty" / "verdicts" / "smoke" / "chap.json").exists()
    assert status() == "skipped"
    (tmp_path / "empty" / "verdicts" / "smoke" / "chap.json").unlink()
    assert status() == "ran"
    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    assert status() == "ran"  # back to the first store: hashed with the store, so rerun


def test_a_damaged_verdict_file_reruns_its_chapter_and_never_fails_the_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grokpaper.core import verdicts

    monkeypatch.setenv("GROKPAPER_STORE", str(tmp_path / "store"))
    summary = ('# %% tags=["parameters"]\nprofile = "quick"\n\n# %%\n'
               'from grokpaper.core.verdicts import load_all\n\n'
               'print([(v.page, v.verdict) for v in load_all(profile=profile)])\n')
    layout = make_layout(tmp_path, {"chap": RECORDING, "summary": summary})
    found = discover(layout)
    assert [o.status for o in runner.run(found, "smoke", layout=layout, quiet=True)] == [
        "ran", "ran"]
    path = verdicts.path_of("chap", profile="smoke")
    intact = path.read_bytes()
    path.write_bytes(intact[:40])  # cut short
    # The summary alone: the damaged file is one "not run" row, and the damage is reported.
    [alone] = runner.run(found[1:], "smoke", layout=layout, quiet=True)
    assert alone.status == "ran", alone.detail
    assert len(alone.damage) == 1 and f"damaged verdict file {path}" in alone.damage[0]
    assert "rerun `grokpaper run --profile smoke chap`" in alone.damage[0]
    printed = "".join(o.get("text", "") for c in nbformat.read(
        layout.book / "summary.ipynb", as_version=4).cells for o in c.get("outputs", []))
    assert "[('chap', 'not run')]" in printed
    # A plain rerun reruns the chapter (its verdict file is gone), then the summary.
    outcomes = runner.run(found, "smoke", layout=layout, quiet=True)
    assert [o.status for o in outcomes] == ["ran", "ran"]
    assert path.read_bytes() == intact


def test_a_write_error_fails_that_notebook_keeps_its_work_and_the_run_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    layout = make_layout(tmp_path, {"a": TINY, "b": TINY})
    real = runner.atomic_write_text

    def read_only_page_a(path: Path, text: str) -> None:
        if path == layout.book / "a.ipynb":
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        real(path, text)

    monkeypatch.setattr(runner, "atomic_write_text", read_only_page_a)
    a, b = runner.run(discover(layout), "smoke", layout=layout, quiet=True)
    assert (a.status, b.status) == ("FAILED", "ran")
    assert a.detail == ("cannot write book/a.ipynb: Read-only file system; make room or make it "
                        "writable, then rerun; the executed notebook is kept in "
                        "build/failed/a.ipynb")
    kept = nbformat.read(layout.build / "failed" / "a.ipynb", as_version=4)
    assert "profile smoke" in "".join(o.get("text", "") for c in kept.cells
                                      for o in c.get("outputs", []))

    def full_build(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(layout.build / ".running-x"))

    monkeypatch.setattr(runner.tempfile, "TemporaryDirectory", full_build)
    a, b = runner.run(discover(layout), "smoke", layout=layout, quiet=True, force=True)
    assert (a.status, b.status) == ("FAILED", "FAILED")  # both tried: the run went on
    assert a.detail.startswith("cannot write build/.running-x: No space left on device")
