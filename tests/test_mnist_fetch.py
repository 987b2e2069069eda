"""Fetching MNIST through torchvision's real download path, from gz IDX files built here and
served on 127.0.0.1 (torchvision's mirrors pointed at the server; no network), and the
``grokpaper fetch mnist`` command around it."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grokpaper.book import cli
from grokpaper.core import mnist_data, mnist_fetch, paths

torchvision = pytest.importorskip("torchvision")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no request log in the test output
        pass


def _official_files(folder: Path) -> dict[str, np.ndarray]:
    """The four official files, tiny, as gz IDX: name -> array."""
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    arrays = {}
    for split, n in (("train", 8), ("t10k", 6)):
        images_stem, labels_stem = mnist_data.FILES[split]
        arrays[images_stem] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[labels_stem] = (np.arange(n) % 10).astype(np.uint8)
    for stem, a in arrays.items():
        mnist_data.write_idx(folder / f"{stem}.gz", a)
    return arrays


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, np.ndarray]]:
    """torchvision's only MNIST mirror is a server on 127.0.0.1 serving the files built here,
    and its MD5 table is theirs; yields the arrays the files hold."""
    served = tmp_path / "served"
    arrays = _official_files(served)
    handler = functools.partial(_Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    resources = [(f"{stem}.gz", hashlib.md5((served / f"{stem}.gz").read_bytes()).hexdigest())
                 for stem in arrays]
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors",
                        [f"http://127.0.0.1:{server.server_address[1]}/"])
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", resources)
    monkeypatch.delenv(mnist_data.ENV, raising=False)
    try:
        yield arrays
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """torchvision's only mirror is a port on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(torchvision.datasets.MNIST, "mirrors", [f"http://127.0.0.1:{port}/"])
    monkeypatch.delenv(mnist_data.ENV, raising=False)


def test_fetch_downloads_all_four_files_that_load_as_the_official_split(mirror, tmp_path):
    root = mnist_fetch.download(tmp_path / "data")
    assert root == tmp_path / "data"
    data = mnist_data.load(root)
    assert data.source == "official"
    np.testing.assert_array_equal(data.train_images, mirror["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(data.test_labels, mirror["t10k-labels-idx1-ubyte"])
    assert mnist_data.has_all_files(root)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_fetch_defaults_to_the_fetch_folder_where_the_project_then_finds_it(mirror):
    assert paths.mnist_dir() is None  # nothing fetched (conftest: an empty fetch folder)
    with pytest.raises(mnist_data.MnistNotFound, match="grokpaper fetch mnist"):
        mnist_data.find_dir()
    assert mnist_fetch.download() == paths.MNIST_FETCH_DIR
    assert paths.mnist_dir() == paths.MNIST_FETCH_DIR
    assert mnist_data.find_dir() == paths.MNIST_FETCH_DIR.resolve()
    assert mnist_data.load().source == "official"


def test_a_file_failing_its_checksum_fails_the_fetch_and_writes_nothing(
        mirror, tmp_path, monkeypatch):
    bad = list(torchvision.datasets.MNIST.resources)
    bad[1] = (bad[1][0], "0" * 32)  # the training labels' MD5 no longer matches what is served
    monkeypatch.setattr(torchvision.datasets.MNIST, "resources", bad)
    root = tmp_path / "data"
    with pytest.raises(mnist_fetch.FetchFailed, match="train-labels-idx1-ubyte.gz"):
        mnist_fetch.download(root)
    assert not root.exists()
    assert list(tmp_path.glob(".data-fetch-*")) == []


def test_offline_fetch_fails_at_once_saying_so(offline, tmp_path):
    with pytest.raises(mnist_fetch.FetchFailed, match="no MNIST mirror answered"):
        mnist_fetch.download(tmp_path / "data", timeout=5)
    assert not (tmp_path / "data").exists()


def test_cli_fetch_offline_is_an_error_unless_if_missing(offline, capsys):
    assert cli.main(["fetch", "mnist"]) == 1
    assert "grokpaper fetch: error: no MNIST mirror answered" in capsys.readouterr().err
    # make book: offline, the book is still built, its MNIST pages saying they were not run.
    assert cli.main(["fetch", "mnist", "--if-missing"]) == 0
    err = capsys.readouterr().err
    assert "MNIST not fetched" in err and "not run" in err
    assert not paths.MNIST_FETCH_DIR.exists()


def test_cli_fetch_once_then_found(mirror, capsys):
    assert cli.main(["fetch", "mnist", "--if-missing"]) == 0
    assert "checksums verified" in capsys.readouterr().out
    assert mnist_data.has_all_files(paths.MNIST_FETCH_DIR)
    assert cli.main(["fetch", "mnist", "--if-missing"]) == 0
    assert "nothing to fetch" in capsys.readouterr().out


def test_cli_fetch_completes_a_test_split_only_folder_unless_if_missing(
        mirror, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "t10k-only"
    folder.mkdir()
    for stem in mnist_data.FILES["t10k"]:
        (folder / f"{stem}.gz").write_bytes((tmp_path / "served" / f"{stem}.gz").read_bytes())
    monkeypatch.setenv(mnist_data.ENV, str(folder))
    assert cli.main(["fetch", "mnist", "--if-missing"]) == 0  # make book: data enough to run
    assert "nothing to fetch" in capsys.readouterr().out
    assert not mnist_data.has_all_files(folder)
    assert cli.main(["fetch", "mnist"]) == 0  # asked for: the training split too
    assert mnist_data.load(folder).source == "official"


needs_mnist = pytest.mark.skipif(not os.environ.get(mnist_data.ENV),
                                 reason=f"${mnist_data.ENV} is not set")


@needs_mnist
def test_real_files_match_torchvision_checksums_of_the_official_files():
    """The files this project runs on are the official ones, by torchvision's own MD5 table."""
    folder = mnist_data.find_dir()
    table = dict(torchvision.datasets.MNIST.resources)
    found = [p for stems in mnist_data.FILES.values() for stem in stems
             for p in folder.glob(f"**/{stem}.gz")]
    if not found:
        pytest.skip("uncompressed files only: torchvision's MD5s are of the .gz files")
    for path in found:
        assert hashlib.md5(path.read_bytes()).hexdigest() == table[path.name], path
    assert {p.name for p in found} >= {f"{s}.gz" for s in mnist_data.FILES["t10k"]}
