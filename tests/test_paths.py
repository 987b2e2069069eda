"""Relative paths (``$GROKPAPER_MNIST``, ``$GROKPAPER_STORE``, ``-p data_dir=``) mean relative
to where the user typed them, also inside the notebook kernels, which run in ``book/<study>/``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from grokpaper.book import cli
from grokpaper.core import mnist_data, paths
from tests.test_runner import make_layout


def _t10k(folder: Path) -> Path:
    folder.mkdir(parents=True)
    images, labels = mnist_data.FILES["t10k"]
    mnist_data.write_idx(folder / images, np.zeros((4, 28, 28), np.uint8))
    mnist_data.write_idx(folder / labels, np.arange(4, dtype=np.uint8))
    return folder


def test_pin_path_variables_makes_relative_paths_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {"GROKPAPER_MNIST": "data/mnist", "GROKPAPER_STORE": "/abs/store",
               "GROKPAPER_DEVICE": "cpu", "OTHER": "rel"}
    paths.pin_path_variables(environ)
    assert environ == {"GROKPAPER_MNIST": str(tmp_path / "data" / "mnist"),
                       "GROKPAPER_STORE": "/abs/store", "GROKPAPER_DEVICE": "cpu",
                       "OTHER": "rel"}
    empty = {"GROKPAPER_STORE": ""}
    paths.pin_path_variables(empty)
    assert empty == {"GROKPAPER_STORE": ""}  # unset in effect: stays so


def test_relative_mnist_folder_is_read_against_the_current_directory(tmp_path, monkeypatch):
    _t10k(tmp_path / "here" / "mnist")
    monkeypatch.chdir(tmp_path / "here")
    monkeypatch.setenv("GROKPAPER_MNIST", "mnist")
    assert paths.mnist_dir() == tmp_path / "here" / "mnist"
    assert mnist_data.find_dir() == (tmp_path / "here" / "mnist").resolve()
    monkeypatch.delenv("GROKPAPER_MNIST")
    assert mnist_data.find_dir("mnist") == (tmp_path / "here" / "mnist").resolve()


PROBE = ('# %% tags=["parameters"]\nprofile = "quick"\ndata_dir = None\n\n'
         '# %%\nimport json, os\nfrom grokpaper.core import mnist_data, paths\n'
         'print(json.dumps({"cwd": os.getcwd(), "mnist": str(mnist_data.find_dir(data_dir)), '
         '"store": str(paths.store_root())}))\n')


def _probe(layout) -> dict[str, str]:
    page = json.loads((layout.book / "probe.ipynb").read_text())
    [cell] = [c for c in page["cells"] if c["cell_type"] == "code" and c.get("outputs")]
    return json.loads("".join(cell["outputs"][0]["text"]))


@pytest.mark.parametrize("how", ["env", "parameter"])
def test_relative_paths_typed_at_the_repository_root_reach_the_kernel(
        tmp_path, monkeypatch, how):
    layout = make_layout(tmp_path / "repo", {"probe": PROBE})
    mnist = _t10k(tmp_path / "repo" / "data" / "mnist")
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("GROKPAPER_STORE", "store")
    argv = ["run", "--profile", "smoke", "--quiet", "probe"]
    if how == "env":
        monkeypatch.setenv("GROKPAPER_MNIST", "data/mnist")
    else:
        monkeypatch.delenv("GROKPAPER_MNIST", raising=False)
        argv += ["-p", "data_dir=data/mnist"]
    assert cli.main(argv, layout=layout) == 0
    seen = _probe(layout)
    assert Path(seen["cwd"]) == layout.book.resolve()  # the kernel runs elsewhere...
    assert Path(seen["mnist"]) == mnist.resolve()  # ...and reads the folder typed
    assert Path(seen["store"]) == (tmp_path / "repo" / "store").resolve()
