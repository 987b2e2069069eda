"""Bad input everywhere a user types something (issue #8): one clear line, exit status 2, and
nothing written to the book, the build folder or the store.

The cases tried (see ``BAD`` below, one test each):

* profile: unknown (``--profile huge``), missing;
* notebook names: unknown name, near miss (``carvalho/fig3b``), a path to no notebook;
* ``-p`` syntax: no ``=``, a name that is not an identifier, the same name twice,
  ``-p profile=...``;
* ``-p`` names: unknown to the one chosen notebook, unknown to every notebook, a parameter of
  another notebook than the chosen one;
* ``-p`` types: a string, a float, a bool or a list for an integer; a scalar for a list; a bad
  list element; a number for a string; NaN;
* ``-p`` ranges and choices: negative / zero steps, ``fs`` outside [0, 1], a negative weight
  decay, zero learning rate, ``train_frac = 1``, ``threshold = 2``, an unknown optimizer,
  operation, Fig. 6 panel or Table 3 row, negative ``seeds`` for the whole book;
* MNIST data: ``$GROKPAPER_MNIST`` naming a missing folder, a file, an empty folder, a folder
  of non-IDX files; ``-p data_dir`` naming a missing folder; an MNIST notebook asked for with
  no folder set at all; an unreadable file (skipped as root);
* ``--workers``: 0, negative, not a number, together with ``--scheduler``; an unknown option.

Each runs ``grokpaper.book.cli.main`` on the repository's notebooks with the book, build folder
and store pointed at a temporary folder, and with notebook execution replaced by a stand-in
that writes into the book: a bad input that slipped through would show up as a written book
(and exit status 0). Valid inputs are checked to get through (so the checks are not simply
refusing everything).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import typing
from pathlib import Path

import numpy as np
import pytest

from grokpaper.book import cli, notebooks, preflight, runner
from grokpaper.core import profiles
from grokpaper.core.paths import REPO_ROOT

N_NOTEBOOKS = len(notebooks.discover())


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The real notebooks and package, a temporary book, build folder and store, and a
    stand-in for notebook execution that records what would have run."""
    layout = notebooks.Layout(notebooks=REPO_ROOT / "notebooks", book=tmp_path / "book",
                              build=tmp_path / "build", package=REPO_ROOT / "grokpaper")
    store = tmp_path / "store"
    monkeypatch.setenv("GROKPAPER_STORE", str(store))
    monkeypatch.delenv("GROKPAPER_MNIST", raising=False)
    monkeypatch.delenv("GROKPAPER_SCHEDULER", raising=False)
    ran: list[tuple[str, dict]] = []

    def execute(nb, profile, params, *, layout=None, force=False, progress=False):
        ran.append((nb.name, params))
        nb.output.parent.mkdir(parents=True, exist_ok=True)
        nb.output.write_text("{}")
        return notebooks.Outcome(nb, "ran", 0.0)

    monkeypatch.setattr(runner, "execute", execute)
    return layout, store, ran


def _mnist_folder(root: Path, *, good: bool = True, n: int = 1000) -> Path:
    """A folder with the t10k files: small but valid IDX files (``n`` images; the training
    pool, the even ones, holds n / 20 of every digit), or junk with the right names."""
    from grokpaper.core import mnist_data as mnist

    root.mkdir(parents=True, exist_ok=True)
    images, labels = mnist.FILES["t10k"]
    if good:
        mnist.write_idx(root / images, np.zeros((n, 28, 28), np.uint8))
        mnist.write_idx(root / labels, (np.arange(n) // 2 % 10).astype(np.uint8))
    else:
        (root / images).write_bytes(b"not an idx file at all")
        (root / labels).write_bytes(b"\x00")
    return root


def _damaged_mnist_folders(tmp: Path) -> None:
    """Good data under ``mnist``; damaged copies: ``short`` (an IDX file cut short),
    ``badgz`` (flipped bytes inside a gzip stream), ``shortgz`` (a gzip file cut short)."""
    import gzip

    good = _mnist_folder(tmp / "mnist")
    images = "t10k-images-idx3-ubyte"
    for name, keep in (("short", 0.5), ("badgz", 1.0), ("shortgz", 0.5)):
        folder = _mnist_folder(tmp / name)
        raw = (good / images).read_bytes()
        if name == "short":
            (folder / images).write_bytes(raw[: int(len(raw) * keep)])
            continue
        (folder / images).unlink()
        packed = bytearray(gzip.compress(raw))
        if name == "badgz":
            for i in range(len(packed) // 2, len(packed) // 2 + 8):
                packed[i] ^= 0xFF
        else:
            packed = packed[: int(len(packed) * keep)]
        (folder / f"{images}.gz").write_bytes(bytes(packed))


FIG3B = "carvalho/fig3b_equidistant"
# (id, argv after "run", environment changes, fragments the one error line must contain)
BAD = [
    ("profile-unknown", ["--profile", "huge"], {}, ["'huge'", "smoke", "quick", "paper"]),
    ("profile-missing", ["carvalho/fig3b_equidistant"], {}, ["--profile", "required"]),
    ("notebook-unknown", ["--profile", "smoke", "no/such_notebook"], {},
     ["unknown notebook(s): no/such_notebook", "available:", "carvalho/fig3b_equidistant"]),
    ("notebook-near-miss", ["--profile", "smoke", "carvalho/fig3b"], {},
     ["unknown notebook(s): carvalho/fig3b", "carvalho/fig3b_equidistant"]),
    ("notebook-bad-path", ["--profile", "smoke", "notebooks/carvalho/nope.py"], {},
     ["unknown notebook(s): carvalho/nope"]),
    ("param-no-equals", ["--profile", "smoke", "-p", "seeds"], {}, ["name=value", "'seeds'"]),
    ("param-bad-name", ["--profile", "smoke", "-p", "1x=2"], {}, ["name=value"]),
    ("param-twice", ["--profile", "smoke", "-p", "seeds=1", "-p", "seeds=2"], {},
     ["more than once", "seeds"]),
    ("param-profile", ["--profile", "smoke", "-p", "profile=paper"], {},
     ["--profile", "smoke, quick, paper"]),
    ("name-unknown-one", ["--profile", "smoke", "-p", "nope=1", "carvalho/fig3b_equidistant"],
     {}, ["unknown parameter 'nope'", "carvalho/fig3b_equidistant",
          "allowed: fs, hidden, n_test, optimizer, seeds, sizes, steps, weight_decay"]),
    ("name-unknown-all", ["--profile", "smoke", "-p", "nope=1"], {},
     ["unknown parameter 'nope'", f"any of the {N_NOTEBOOKS} chosen notebooks", "allowed:",
      "seeds", "data_dir"]),
    ("name-of-another-notebook",
     ["--profile", "smoke", "-p", "data_dir=/x", "carvalho/fig3b_equidistant"], {},
     ["unknown parameter 'data_dir'", "allowed: fs"]),
    ("type-string-for-int", ["--profile", "smoke", "-p", "seeds=abc",
                             "carvalho/fig3b_equidistant"], {},
     ["carvalho/fig3b_equidistant", "seeds='abc'", "not an integer",
      "seeds takes an integer >= 1"]),
    ("type-float-for-int", ["--profile", "smoke", "-p", "seeds=2.5",
                            "carvalho/fig3b_equidistant"], {},
     ["seeds=2.5", "not an integer"]),
    ("type-bool-for-int", ["--profile", "smoke", "-p", "seeds=true",
                           "carvalho/fig3b_equidistant"], {}, ["seeds=true", "not an integer"]),
    ("type-list-for-int", ["--profile", "smoke", "-p", "steps=[1,2]",
                           "carvalho/fig3b_equidistant"], {}, ["steps=[1, 2]", "an integer"]),
    ("type-scalar-for-list", ["--profile", "smoke", "-p", "hidden=16",
                              "carvalho/fig3b_equidistant"], {},
     ["hidden=16", "not a non-empty list", "a list of integers >= 1", "hidden=[100,200]"]),
    ("type-bad-element", ["--profile", "smoke", "-p", "sizes=[200,\"x\"]",
                          "carvalho/fig3b_equidistant"], {}, ["'x' is not an integer"]),
    ("type-number-for-string", ["--profile", "smoke", "-p", "optimizer=3",
                                "carvalho/fig3b_equidistant"], {},
     ["optimizer=3", "not a string", "'adamw', 'adam', 'sgd'"]),
    ("type-nan", ["--profile", "smoke", "-p", "weight_decay=NaN",
                  "carvalho/fig3b_equidistant"], {}, ["weight_decay=NaN", "not finite"]),
    ("range-negative-steps", ["--profile", "smoke", "-p", "steps=-5",
                              "carvalho/fig3b_equidistant"], {},
     ["steps=-5", "out of range (>= 1)"]),
    ("range-zero-steps", ["--profile", "quick", "-p", "steps=0", "liu/fig2_representations"],
     {}, ["liu/fig2_representations", "steps=0", "out of range"]),
    ("range-f", ["--profile", "smoke", "-p", "fs=[0,1.5]", "carvalho/fig3b_equidistant"], {},
     ["fs=[0, 1.5]", "1.5 is out of range (in [0, 1])", "a list of numbers in [0, 1]"]),
    ("range-weight-decay", ["--profile", "smoke", "-p", "weight_decay=-1",
                            "carvalho/fig3b_equidistant"], {}, ["weight_decay=-1", ">= 0"]),
    ("range-lr", ["--profile", "smoke", "-p", "lr=0", "lisakib/fig2_curves"], {},
     ["lisakib/fig2_curves", "lr=0", "> 0"]),
    ("range-train-frac", ["--profile", "smoke", "-p", "train_frac=1", "lisakib/fig2_curves"],
     {}, ["train_frac=1", "in (0, 1)"]),
    ("range-threshold", ["--profile", "smoke", "-p", "threshold=2", "mnist/phase_diagram"], {},
     ["mnist/phase_diagram", "threshold=2", "in [0, 1]"]),
    ("range-seeds-whole-book", ["--profile", "smoke", "-p", "seeds=-1"], {},
     ["seeds=-1", "out of range (>= 1)"]),
    ("choice-optimizer", ["--profile", "smoke", "-p", "optimizer=rmsprop",
                          "carvalho/fig3b_equidistant"], {},
     ["'rmsprop' is not allowed", "one of 'adamw', 'adam', 'sgd'"]),
    ("choice-operation", ["--profile", "smoke", "-p", "ops=[\"%\"]", "lisakib/fig2_curves"], {},
     ["'%' is not allowed", "items from '+', '-', '*', '/'"]),
    ("choice-panel", ["--profile", "smoke", "-p", "panels=[\"z\"]", "liu/fig6_phase_diagrams"],
     {}, ["'z' is not allowed", "'a', 'b', 'c', 'd'"]),
    ("choice-table3-row", ["--profile", "smoke", "-p", "rows=[\"bogus\"]",
                           "mnist/lisakib_variants"], {},
     ["'bogus' is not allowed", "'1K (original)'"]),
    ("type-notebook-only-param", ["--profile", "smoke", "-p", "noise=abc", "carvalho/datasets"],
     {}, ["carvalho/datasets", "noise='abc'", "a number > 0"]),
    ("mnist-env-missing-folder", ["--profile", "smoke"], {"GROKPAPER_MNIST": "{tmp}/nowhere"},
     ["mnist/", "No MNIST files found", "GROKPAPER_MNIST={tmp}/nowhere", "data_dir"]),
    ("mnist-env-is-a-file", ["--profile", "smoke", "mnist/omnigrok_curves"],
     {"GROKPAPER_MNIST": "{tmp}/file"}, ["mnist/omnigrok_curves", "No MNIST files found"]),
    ("mnist-env-empty-folder", ["--profile", "smoke", "mnist/phase_diagram"],
     {"GROKPAPER_MNIST": "{tmp}/empty"}, ["mnist/phase_diagram", "No MNIST files found"]),
    ("mnist-env-junk-files", ["--profile", "smoke", "mnist/cluster_shift"],
     {"GROKPAPER_MNIST": "{tmp}/junk"}, ["mnist/cluster_shift", "not an MNIST IDX file"]),
    ("mnist-data-dir-missing", ["--profile", "smoke", "-p", "data_dir={tmp}/nowhere",
                                "mnist/omnigrok_curves"], {},
     ["mnist/omnigrok_curves", "looked in data_dir={tmp}/nowhere"]),
    ("mnist-data-dir-not-a-string", ["--profile", "smoke", "-p", "data_dir=3",
                                     "mnist/omnigrok_curves"], {},
     ["data_dir=3", "not a string"]),
    ("mnist-none-set", ["--profile", "smoke", "mnist/omnigrok_curves"], {},
     ["mnist/omnigrok_curves", "neither the data_dir parameter nor $GROKPAPER_MNIST"]),
    ("workers-zero", ["--profile", "smoke", "--workers", "0"], {},
     ["--workers must be a positive integer, got 0"]),
    ("workers-negative", ["--profile", "smoke", "--workers", "-2"], {},
     ["--workers must be a positive integer, got -2"]),
    ("workers-not-a-number", ["--profile", "smoke", "--workers", "two"], {},
     ["--workers", "invalid int value: 'two'"]),
    ("workers-and-scheduler", ["--profile", "smoke", "--workers", "2", "--scheduler",
                               "tcp://h:1"], {}, ["not allowed with"]),
    ("unknown-option", ["--profile", "smoke", "--fast"], {}, ["unrecognized arguments: --fast"]),
    # issue 15, item 10: the environment
    ("device-nonsense", ["--profile", "smoke", FIG3B], {"GROKPAPER_DEVICE": "nonsense"},
     ["GROKPAPER_DEVICE=nonsense is not a torch device", "unset it"]),
    ("store-is-a-file", ["--profile", "smoke", FIG3B], {"GROKPAPER_STORE": "{tmp}/file"},
     ["the result store (GROKPAPER_STORE={tmp}/file)", "is a file, not a folder",
      "point GROKPAPER_STORE at a writable folder"]),
    ("store-under-a-file", ["--profile", "smoke", FIG3B],
     {"GROKPAPER_STORE": "{tmp}/file/store"}, ["cannot be created: {tmp}/file is a file"]),
    ("mnist-images-cut-short", ["--profile", "smoke", "mnist/omnigrok_curves"],
     {"GROKPAPER_MNIST": "{tmp}/short"},
     ["mnist/omnigrok_curves", "{tmp}/short/t10k-images-idx3-ubyte is cut short"]),
    ("mnist-gzip-bad-bytes", ["--profile", "smoke", "mnist/omnigrok_curves"],
     {"GROKPAPER_MNIST": "{tmp}/badgz"},
     ["{tmp}/badgz/t10k-images-idx3-ubyte.gz is a damaged gzip file", "download it again"]),
    ("mnist-gzip-cut-short", ["--profile", "smoke", "mnist/phase_diagram"],
     {"GROKPAPER_MNIST": "{tmp}/shortgz"},
     ["{tmp}/shortgz/t10k-images-idx3-ubyte.gz is a damaged gzip file"]),
    # item 11: every parameter has a range, and memory is estimated before allocating
    ("range-seeds-huge", ["--profile", "smoke", "-p", "seeds=100000", FIG3B], {},
     ["seeds=100000: 100000 is out of range (<= 1000", "seeds takes an integer >= 1 and <= 1000"]),
    ("range-weight-decay-huge", ["--profile", "smoke", "-p", "weight_decay=1e300", FIG3B], {},
     ["weight_decay=1e+300", "out of range (<= 10000"]),
    ("range-per-subclass", ["--profile", "smoke", "-p", "per_subclass=1000000000",
                            "carvalho/datasets"], {},
     ["carvalho/datasets", "per_subclass=1000000000", "out of range (<= 10000"]),
    ("range-lrs-list", ["--profile", "smoke", "-p", "lrs=[0.001,1e9]", "mnist/phase_diagram"],
     {"GROKPAPER_MNIST": "{tmp}/mnist"}, ["lrs=[0.001, 1000000000.0]", "out of range (<= 1000000"]),
    # Ensembles are cut to the memory free: only a run too large to train alone is refused
    # (32 layers of 16,384 units: ~130 GB for one member with its optimizer state).
    ("memory", ["--profile", "smoke", "-p", "sizes=[1000000]", "-p", "n_test=1000000", "-p",
                f"hidden={[16384] * 32}".replace(" ", ""), "-p", "seeds=64", FIG3B], {},
     ["carvalho/fig3b_equidistant: its largest ensemble needs about", "GiB (data",
      "free on", "lower seeds, sizes or widths"]),
    # item 12: cross-field rules, stated once by each parameter dataclass
    ("rule-batch-vs-sizes", ["--profile", "smoke", "-p", "sizes=[50]", FIG3B], {},
     ["carvalho/fig3b_equidistant: batch_size=100 exceeds the smallest training size"]),
    ("rule-fig3a-batch", ["--profile", "smoke", "-p", "batch_size=500", "-p", "sizes=[200]",
                          "carvalho/fig3a_sparsity"], {}, ["batch_size=500 exceeds"]),
    ("rule-fig4-subsampled", ["--profile", "smoke", "-p", "n_subsampled_per_class=20",
                              "carvalho/fig4_equivariant"], {},
     ["n_subsampled_per_class must be in [0, 10] for the equivariant dataset, got 20"]),
    ("rule-omnigrok-pool", ["--profile", "smoke", "-p", "n_train=6000",
                            "mnist/omnigrok_curves"], {"GROKPAPER_MNIST": "{tmp}/mnist"},
     ["mnist/omnigrok_curves: n_train=6000 exceeds the training pool of 500 images"]),
    ("rule-clusters-per-digit", ["--profile", "smoke", "-p", "k=50", "-p", "fs=[0.5]",
                                 "mnist/cluster_shift"], {"GROKPAPER_MNIST": "{tmp}/mnist"},
     ["mnist/cluster_shift: k=50 clusters per digit need at least 54 training images",
      "(max_pool=600) has 50 of digit 0", "lower k"]),
]


@pytest.mark.parametrize(("argv", "environ", "fragments"), [c[1:] for c in BAD],
                         ids=[c[0] for c in BAD])
def test_bad_input_gives_one_line_exit_2_and_writes_nothing(
        env, tmp_path, monkeypatch, capsys, argv, environ, fragments):
    layout, store, ran = env
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    _mnist_folder(tmp_path / "junk", good=False)
    _damaged_mnist_folders(tmp_path)
    for name, value in environ.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", *(a.format(tmp=tmp_path) for a in argv)], layout=layout)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert re.match(r"grokpaper( run)?: error: ", err) and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment.format(tmp=tmp_path) in err, err
    assert ran == []
    assert not layout.book.exists() and not layout.build.exists() and not store.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_unreadable_mnist_file(env, tmp_path, monkeypatch, capsys):
    layout, store, ran = env
    folder = _mnist_folder(tmp_path / "mnist")
    (folder / "t10k-images-idx3-ubyte").chmod(0)
    monkeypatch.setenv("GROKPAPER_MNIST", str(folder))
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--profile", "smoke", "mnist/omnigrok_curves"], layout=layout)
    assert exc.value.code == 2
    assert "Permission denied" in capsys.readouterr().err
    assert ran == [] and not layout.book.exists() and not store.exists()


# Controls: valid input gets through to execution, with the values given.

def test_valid_parameters_reach_the_notebook(env):
    layout, store, ran = env
    argv = ["run", "--profile", "smoke", "-p", "seeds=1", "-p", "fs=[0,0.5]", "-p",
            "hidden=[8]", "-p", "weight_decay=0", "-p", "optimizer=sgd", "-p", "n_test=null",
            "carvalho/fig3b_equidistant"]
    assert cli.main(argv, layout=layout) == 0
    assert ran == [("carvalho/fig3b_equidistant", {"seeds": 1, "fs": [0, 0.5], "hidden": [8],
                                                   "weight_decay": 0, "optimizer": "sgd",
                                                   "n_test": None})]
    assert (layout.book / "carvalho" / "fig3b_equidistant.ipynb").exists()


def test_whole_book_takes_a_parameter_some_notebooks_lack(env):
    layout, store, ran = env
    # steps is not a parameter of the datasets page or the summary: they ignore it. Without
    # MNIST set, the MNIST pages are left to stop with their own message (README).
    assert cli.main(["run", "--profile", "quick", "-p", "steps=100"], layout=layout) == 0
    assert len(ran) == N_NOTEBOOKS and ran[-1][0] == "summary"


def test_valid_mnist_folder_gets_through(env, tmp_path, monkeypatch):
    layout, store, ran = env
    monkeypatch.setenv("GROKPAPER_MNIST", str(_mnist_folder(tmp_path / "mnist")))
    argv = ["run", "--profile", "smoke", "-p", "threshold=0.9", "mnist/phase_diagram"]
    assert cli.main(argv, layout=layout) == 0
    assert ran == [("mnist/phase_diagram", {"threshold": 0.9})]


def test_every_notebook_parameter_is_checked():
    """Each parameter of each notebook has a known type (a dataclass field it is passed to, a
    literal default, or EXTRA_TYPES), so a new parameter cannot slip past the checks."""
    for nb in notebooks.discover():
        info = preflight.notebook_parameters(nb)
        for name, default in info.defaults.items():
            if name == "profile":
                continue
            known = (info.field_of(name) is not None or default is not None
                     or name in preflight.EXTRA_TYPES)
            assert known, f"{nb.name}: parameter {name!r} has no type the checks know"


def test_every_string_field_declares_its_choices():
    """Each string field of each parameter dataclass a notebook resolves lists its allowed
    values in the class's ``CHOICES`` (what pre-flight reads; book/ imports no study), naming
    no other field; the paper's default and every profile's value are among them."""
    classes = {where: figures for nb in notebooks.discover()
               for figures, where, _ in notebooks.notebook_parameters(nb).resolves}
    assert len(classes) >= 10  # every study's chapters
    for where, figures in classes.items():
        cls = notebooks.load_class(where)
        hints = typing.get_type_hints(cls)
        text = {f.name: f for f in dataclasses.fields(cls)
                if hints[f.name] in (str, tuple[str, ...])}
        assert set(getattr(cls, "CHOICES", {})) <= set(text), where
        for name, f in text.items():
            choices = preflight.choices_of(cls, name)
            assert choices, f"{where}: string field {name!r} declares no CHOICES"
            values = [] if f.default is dataclasses.MISSING else [f.default]
            values += [v[name] for fig in figures for v in profiles.overrides(fig).values()
                       if name in v]
            for value in values:
                items = [value] if hints[name] is str else list(value)
                assert set(items) <= set(choices), f"{where}.{name}: {value!r} not in {choices}"


def test_command_line_error_in_a_subprocess(tmp_path):
    """The console entry point: exit status 2, one line, no traceback, the book untouched."""
    page = REPO_ROOT / "book" / "carvalho" / "fig3b_equidistant.ipynb"
    before = page.stat().st_mtime_ns if page.exists() else None
    envvars = {**os.environ, "GROKPAPER_STORE": str(tmp_path / "store")}
    proc = subprocess.run(
        [sys.executable, "-m", "grokpaper.book.cli", "run", "--profile", "smoke", "-p", "seeds=abc",
         "carvalho/fig3b_equidistant"], capture_output=True, text=True, env=envvars,
        cwd=tmp_path, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "seeds takes an integer >= 1" in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "store").exists()
    assert (page.stat().st_mtime_ns if page.exists() else None) == before


# Issue 15, items 6 and 10: what the run writes to, and the device, checked before it starts.

def test_cuda_without_a_gpu_is_refused_naming_the_variable(env, monkeypatch, capsys):
    import torch

    layout, store, ran = env
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    monkeypatch.setenv("GROKPAPER_DEVICE", "cuda" if count == 0 else f"cuda:{count}")
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--profile", "smoke", FIG3B], layout=layout)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1
    assert "GROKPAPER_DEVICE=cuda" in err and ("sees no GPU" if count == 0 else "GPU(s)") in err
    assert ran == [] and not store.exists()


def _refused(layout, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--profile", "smoke", FIG3B], layout=layout)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(("which", "errno_name", "words"), [
    ("book", "EROFS", "cannot write to the book folder {path}: Read-only file system; make it "
                      "writable"),
    ("build", "ENOSPC", "cannot write to the build folder {path}: No space left on device; "
                        "make it writable and free some space"),
    ("store", "EACCES", "cannot write to the result store (GROKPAPER_STORE={path}) {path}: "
                        "Permission denied"),
])
def test_an_unwritable_folder_is_refused_before_anything_runs(
        env, monkeypatch, capsys, which, errno_name, words):
    import errno

    from grokpaper.core import files

    layout, store, ran = env
    path = {"book": layout.book, "build": layout.build, "store": store}[which]
    path.mkdir()
    code = getattr(errno, errno_name)

    def failing_open(file, *args, **kwargs):
        if Path(file).parent == path:
            raise OSError(code, os.strerror(code), str(file))
        return open(file, *args, **kwargs)

    real_unlink = os.unlink

    def unlink(file, *args, **kwargs):  # a read-only file system refuses even a missing file
        if code == errno.EROFS and Path(file).parent == path:
            raise OSError(code, os.strerror(code), str(file))
        return real_unlink(file, *args, **kwargs)

    monkeypatch.setattr(files, "open", failing_open, raising=False)
    monkeypatch.setattr(os, "unlink", unlink)
    assert words.format(path=path) in _refused(layout, capsys)
    assert ran == [] and list(path.iterdir()) == []


def test_a_book_path_that_is_a_file_is_refused(env, capsys):
    layout, store, ran = env
    layout.book.write_text("not a folder")
    assert f"the book folder {layout.book} is a file, not a folder" in _refused(layout, capsys)
    assert ran == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_book_folder_is_refused(env, capsys):
    layout, store, ran = env
    layout.book.mkdir()
    layout.book.chmod(0o555)
    try:
        assert "cannot write to the book folder" in _refused(layout, capsys)
    finally:
        layout.book.chmod(0o755)
    assert ran == []


def test_every_number_field_declares_its_range_and_the_paper_values_are_in_it():
    """Each number field of each parameter dataclass a notebook resolves has a range in its
    ``RANGES`` (what pre-flight reads), with an upper bound; the paper's defaults and every
    profile's values pass the ranges and the cross-field rules (building them runs both)."""
    from grokpaper.core import params

    classes = {where: figures for nb in notebooks.discover()
               for figures, where, _ in notebooks.notebook_parameters(nb).resolves}
    for where, figures in classes.items():
        cls = notebooks.load_class(where)
        ranges = getattr(cls, "RANGES", {})
        assert set(params.numeric_fields(cls)) == set(ranges), where
        for name, rng in ranges.items():
            assert rng.hi is not None or rng.cap is not None, f"{where}.{name}: no upper bound"
        cls()  # the paper's values
        for figure in figures:
            for profile in profiles.overrides(figure):
                profiles.resolve(figure, cls, profile)
