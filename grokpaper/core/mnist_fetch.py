"""Fetch MNIST once, through torchvision's own download (``grokpaper fetch mnist``).

torchvision tries each of its mirrors in turn and accepts a file only when its MD5 matches its
table of the four official files; we add a time limit (offline machines answer quickly with "no
mirror answered") and an all-or-nothing move into the folder that
:mod:`grokpaper.core.mnist_data` reads. Tests serve files from 127.0.0.1 (no network).
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from grokpaper.core import paths
from grokpaper.core.mnist_data import ENV


class FetchFailed(RuntimeError):
    """MNIST could not be downloaded: no mirror answered (offline), or every mirror failed or
    served a file whose checksum is wrong. Nothing was written where the project reads."""


#: Seconds to wait for a mirror to answer, and for each read of a download.
FETCH_TIMEOUT_S = 30.0


def download(root: Path | str | None = None, *, timeout: float = FETCH_TIMEOUT_S) -> Path:
    """Fetch the four official MNIST files with torchvision into ``root`` (default:
    ``$GROKPAPER_MNIST`` when set, else the fetch folder) and return the folder.

    torchvision tries each of its mirrors (``torchvision.datasets.MNIST.mirrors``) in turn and
    accepts a file only when its MD5 matches its table of the official files. The files are
    fetched into a temporary folder beside ``root`` and moved into ``root/MNIST/raw/``
    (torchvision's layout) only when all four passed, so a failed or interrupted fetch leaves
    nothing that this module would read. Raises :class:`FetchFailed` when no mirror answers
    within ``timeout`` seconds (offline) or the download fails.
    """
    # torchvision only to download: its import (~1-2 s) is not needed to read the files.
    import torchvision

    env = os.environ.get(ENV)
    root = paths.absolute(root if root is not None else env or paths.MNIST_FETCH_DIR)
    mirrors = list(torchvision.datasets.MNIST.mirrors)
    if not any(_answers(url, timeout) for url in mirrors):
        raise FetchFailed(f"no MNIST mirror answered (offline?): {', '.join(mirrors)}")
    root.parent.mkdir(parents=True, exist_ok=True)
    with (tempfile.TemporaryDirectory(dir=root.parent, prefix=f".{root.name}-fetch-") as tmp,
          _socket_timeout(timeout)):
        try:
            # Downloads and checks all four files, then reads the test split back.
            torchvision.datasets.MNIST(tmp, train=False, download=True)
        except (RuntimeError, OSError) as exc:
            raise FetchFailed(f"MNIST download failed: {' '.join(str(exc).split())}") from exc
        raw = root / "MNIST" / "raw"
        raw.mkdir(parents=True, exist_ok=True)
        for path in sorted((Path(tmp) / "MNIST" / "raw").iterdir()):
            path.replace(raw / path.name)
    return root


def _answers(url: str, timeout: float) -> bool:
    """Whether the server of ``url`` answers at all (an HTTP error status is an answer)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False
    return True


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    # torchvision opens its URLs without a timeout: a stalled mirror would hang the fetch.
    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)
