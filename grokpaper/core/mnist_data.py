"""MNIST from local IDX files (gzipped or not), with torchvision's download as the online path.

Where the files are: the ``data_dir`` argument, else ``$GROKPAPER_MNIST``, else the fetch folder
``<repo>/data/mnist`` when a fetch filled it (:data:`grokpaper.core.paths.MNIST_FETCH_DIR`);
relative paths are taken against the current directory. A folder may hold the four official
files directly (``train-images-idx3-ubyte[.gz]`` ...) or in torchvision's layout
(``<dir>/MNIST/raw/``), which ``grokpaper fetch mnist`` (:mod:`grokpaper.core.mnist_fetch`)
fills through torchvision's own download. Nothing here touches the network.

Splits: with the official training files present, the *training pool* is the 60,000 training
images and the *test pool* the 10,000 test images. When only the official test split (t10k) is
present (this project's offline machines), its 10,000 images are split deterministically by index
parity: even indices form the training pool, odd indices the test pool. Parity rather than halves
because the first 5,000 t10k images are the cleaner, easier ones (LeCun's notes), so halves would
build a distribution shift into the split.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from grokpaper.core import paths

#: Environment variable naming the MNIST folder (documented in the README; see paths.py).
ENV = "GROKPAPER_MNIST"
#: IDX magic numbers: 0x00000803 (unsigned bytes, 3 dims) and 0x00000801 (unsigned bytes, 1 dim).
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
               0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


class MnistNotFound(FileNotFoundError):
    """No MNIST files where the project looked; the message says both ways to fix it."""


def read_idx(path: Path | str, *, magic: int | None = None) -> np.ndarray:
    """An IDX file (optionally gzipped) as a numpy array in native byte order.

    The format: two zero bytes, a type code, the number of dims, then one big-endian uint32 per
    dim and the data, big-endian. ``magic`` (e.g. 2051 for images) is checked when given.
    """
    path = Path(path)
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    try:
        with (gzip.open if gz else open)(path, "rb") as fh:
            raw = fh.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # cut short, or bad bytes
        raise ValueError(f"{path} is a damaged gzip file ({type(exc).__name__}: {exc}); "
                         f"download it again") from exc
    if len(raw) < 4 or raw[:2] != b"\0\0":
        raise ValueError(f"{path} is not an IDX file (bad header)")
    code, ndim = raw[2], raw[3]
    found = int.from_bytes(raw[:4], "big")
    if magic is not None and found != magic:
        raise ValueError(f"{path}: magic number {found}, expected {magic}")
    if code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02x}")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[code])
    start = 4 + 4 * ndim
    have, want = len(raw) - start, int(np.prod(dims)) * dtype.itemsize
    if have != want:
        how = "is cut short" if have < want else "has bytes to spare"
        raise ValueError(f"{path} {how}: {max(have, 0)} data bytes for dims {dims}, expected "
                         f"{want}; download it again")
    data = np.frombuffer(raw, dtype, offset=start).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def idx_shape(path: Path | str) -> tuple[int, ...]:
    """The dims of an IDX file (optionally gzipped), read from its header alone."""
    path = Path(path)
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    with (gzip.open if gz else open)(path, "rb") as fh:
        head = fh.read(4)
        return tuple(int(d) for d in np.frombuffer(fh.read(4 * head[3]), ">u4"))


def pool_sizes(data_dir: Path | str | None = None) -> tuple[int, int]:
    """(training pool, test pool) sizes :func:`load` would give, from the file headers alone;
    raises :class:`MnistNotFound` as :func:`find_dir`."""
    folder = find_dir(data_dir)
    n_test = idx_shape(locate(folder, FILES["t10k"][0]))[0]
    if all(locate(folder, s) is not None for s in FILES["train"]):
        return idx_shape(locate(folder, FILES["train"][0]))[0], n_test
    return (n_test + 1) // 2, n_test // 2  # parity_split


def write_idx(path: Path | str, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` (uint8) as an IDX file, gzipped if ``compress`` or the name ends in .gz."""
    path = Path(path)
    a = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    data = header + a.tobytes()
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def has_all_files(folder: Path) -> bool:
    """Whether ``folder`` holds all four official files (training and test splits)."""
    return all(locate(folder, stem) is not None for stems in FILES.values() for stem in stems)


def locate(folder: Path, stem: str) -> Path | None:
    """The file ``stem`` (e.g. ``t10k-images-idx3-ubyte``), gzipped or not, in ``folder`` or
    its torchvision layout (``MNIST/raw``, ``raw``); None when it is in none of them."""
    for base in (folder, folder / "MNIST" / "raw", folder / "raw"):
        for name in (stem, f"{stem}.gz"):
            if (base / name).is_file():
                return base / name
    return None


def _not_found(where: str) -> MnistNotFound:
    return MnistNotFound(
        f"No MNIST files found ({where}). Either point the project at a folder holding the IDX "
        f"files t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] (and, for the full "
        f"training set, train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]) with "
        f"`export {ENV}=/path/to/folder` or the notebook parameter `data_dir`; or, when online, "
        f"download them once with `grokpaper fetch mnist` (into the repository's data/mnist, "
        f"where the project then finds them without any setting).")


def find_dir(data_dir: Path | str | None = None) -> Path:
    """The folder to read: ``data_dir``, else ``$GROKPAPER_MNIST``, else the fetch folder (see
    the module docstring); raises :class:`MnistNotFound` (saying both ways to fix it) when that
    folder lacks the test split."""
    if data_dir is not None:
        folder, where = paths.absolute(data_dir), f"data_dir={data_dir!s}"
    elif (found := paths.mnist_dir()) is not None:
        folder = found
        where = f"{ENV}={os.environ[ENV]}" if os.environ.get(ENV) else f"looked in {found}"
    else:
        raise _not_found(f"neither the data_dir parameter nor ${ENV} is set, and nothing was "
                         f"fetched into {paths.MNIST_FETCH_DIR}")
    if not folder.is_dir() or any(locate(folder, s) is None for s in FILES["t10k"]):
        raise _not_found(where if where.startswith("looked") else f"looked in {where}")
    return folder.resolve()


@dataclass(frozen=True)
class MnistData:
    """The training and test pools (uint8 images (N, 28, 28), int64 labels) and where from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str  # "official" (train + t10k files) or "t10k-parity" (test split only, halved)
    folder: str

    @functools.cached_property
    def fingerprint(self) -> str:
        """Short hash of all pixels and labels: part of every run's store key."""
        h = hashlib.sha256(self.source.encode())
        for a in (self.train_images, self.train_labels, self.test_images, self.test_labels):
            h.update(np.ascontiguousarray(a).tobytes())
        return f"{self.source}-{h.hexdigest()[:16]}"

    def head(self, n: int | None) -> MnistData:
        """The first ``n`` images of each pool (all if None): small runs for tests."""
        if n is None:
            return self
        if not isinstance(n, int) or n <= 0:
            raise ValueError(f"n must be a positive integer or None, got {n!r}")
        return MnistData(self.train_images[:n], self.train_labels[:n], self.test_images[:n],
                         self.test_labels[:n], self.source, self.folder)

    def describe(self) -> str:
        """One sentence for the page: source and the size of each split."""
        n_tr, n_te = len(self.train_labels), len(self.test_labels)
        if self.source == "official":
            how = "the official MNIST training and test files"
        else:
            how = ("the official MNIST test split only (t10k, 10,000 images; the training files "
                   "were not available), split deterministically by index parity: even indices "
                   "form our training pool, odd indices our held-out test pool")
        return (f"Data: {how}, read from `{self.folder}`: a training pool of {n_tr:,} images "
                f"and a test pool of {n_te:,} images.")


def parity_split(images: np.ndarray, labels: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, train labels, test images, test labels): even indices vs odd indices."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return images[0::2], labels[0::2], images[1::2], labels[1::2]


def _read_pair(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    img_stem, lab_stem = FILES[split]
    images = read_idx(locate(folder, img_stem), magic=IMAGES_MAGIC)
    labels = read_idx(locate(folder, lab_stem), magic=LABELS_MAGIC).astype(np.int64)
    if images.shape[0] != labels.shape[0] or images.shape[1:] != (28, 28):
        raise ValueError(f"{folder}: {split} images {images.shape} vs labels {labels.shape}")
    return images, labels


@functools.lru_cache(maxsize=2)
def _load(folder: Path) -> MnistData:
    test_x, test_y = _read_pair(folder, "t10k")
    if all(locate(folder, s) is not None for s in FILES["train"]):
        train_x, train_y = _read_pair(folder, "train")
        return MnistData(train_x, train_y, test_x, test_y, "official", str(folder))
    return MnistData(*parity_split(test_x, test_y), "t10k-parity", str(folder))


def load(data_dir: Path | str | None = None) -> MnistData:
    """MNIST pools from ``data_dir`` / ``$GROKPAPER_MNIST`` / the fetch folder (see module
    docstring)."""
    return _load(find_dir(data_dir))


def pixels(images: np.ndarray) -> np.ndarray:
    """(N, 784) float32 pixels in [0, 1], no normalization (as the Omnigrok code's ToTensor)."""
    return (images.reshape(len(images), -1) / np.float32(255)).astype(np.float32)


# --- Augmentation (Li & Sakib Sec. 4): random rotation of sigma x 30 degrees, then a Gaussian
# blur with kernel 3 and std sigma / 2, applied to every training minibatch on its device.


def rotate(images: torch.Tensor, degrees: torch.Tensor) -> torch.Tensor:
    """Rotate each square image (..., S, S) counter-clockwise about its centre by its own angle.

    ``degrees`` has the shape of the leading dims. Nearest-neighbour sampling and zero fill, as
    torchvision's ``RandomRotation`` defaults (``F.rotate(img, angle)`` per image), batched.
    """
    lead, (h, w) = images.shape[:-2], images.shape[-2:]
    if h != w:
        raise ValueError(f"rotate needs square images, got {h}x{w}")
    flat = images.reshape(-1, 1, h, w)
    rad = torch.deg2rad(degrees.reshape(-1, 1, 1).to(flat.dtype))
    cos, sin = torch.cos(rad), torch.sin(rad)
    # Output pixel p samples the input at R(-angle) p (y points down, so the signs of a
    # counter-clockwise turn on screen); the test checks this against torchvision. The grid is
    # affine_grid's with theta = [[cos, -sin, 0], [sin, cos, 0]], written out: affine_grid's
    # batch of tiny matmuls costs ~10x the sampling itself on a CPU.
    pos = (2 * torch.arange(w, dtype=flat.dtype, device=flat.device) + 1) / w - 1
    x, y = pos[None, None, :, None], pos[None, :, None, None]
    # (x, y) -> (cos x - sin y, sin x + cos y), stacked on the small coefficients rather than
    # on the grid (a stack along the last dim of a large tensor is slow)
    grid = x * torch.stack([cos, sin], -1) + y * torch.stack([-sin, cos], -1)
    out = nn.functional.grid_sample(flat, grid, mode="nearest", padding_mode="zeros",
                                    align_corners=False)
    return out.reshape(*lead, h, w)


def blur_kernels(sigma: torch.Tensor) -> torch.Tensor:
    """(E, 3) one-dimensional Gaussian kernels of std ``sigma`` (E,); torchvision's 3x3
    ``gaussian_blur`` kernel is the outer product of one with itself. Std 0 gives the
    identity kernel."""
    x = torch.tensor([-1.0, 0.0, 1.0], device=sigma.device)
    s = sigma.float().clamp_min(1e-12)[:, None]
    k1 = torch.exp(-0.5 * (x / s) ** 2)
    return k1 / k1.sum(-1, keepdim=True)


def blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Member e's images (E, B, H, W) blurred with std ``sigma[e]`` (reflect padding, kernel 3)."""
    h, w = images.shape[-2:]
    x = nn.functional.pad(images, (1, 1, 1, 1), mode="reflect")
    k = blur_kernels(sigma).to(images.dtype)[:, :, None, None, None]  # (E, 3, 1, 1, 1)
    # Separable, as shifted slices: a grouped conv2d over members is ~10x slower on a CPU
    # (its input would be (B, E, H, W), a layout its kernels handle badly).
    rows = k[:, 0] * x[..., 0:w] + k[:, 1] * x[..., 1 : w + 1] + k[:, 2] * x[..., 2 : w + 2]
    return (k[:, 0] * rows[..., 0:h, :] + k[:, 1] * rows[..., 1 : h + 1, :]
            + k[:, 2] * rows[..., 2 : h + 2, :])


class Augment:
    """Training-minibatch hook: member e's images rotated by U(-30 s_e, 30 s_e) degrees and
    blurred with std s_e / 2, where s_e = ``sigma[e]`` (0 leaves its images untouched).

    Angles come from per-member generators seeded by ``seeds`` and are drawn in chunks, so a
    member's augmentations depend only on its own seed (like its minibatch order).
    """

    def __init__(self, sigma: list[float], seeds: list[int], *, side: int = 28,
                 chunk: int = 256) -> None:
        if len(sigma) != len(seeds) or any(s < 0 for s in sigma):
            raise ValueError(f"need one sigma >= 0 per member, got {sigma!r} for {seeds!r}")
        # Only members with sigma > 0 are transformed: rotating by 0 and blurring with the
        # identity kernel returns the images unchanged, at the cost of a full augmentation.
        on = [i for i, s in enumerate(sigma) if s > 0]
        self.on = torch.tensor(on, dtype=torch.long)
        self.sigma_on = torch.tensor([sigma[i] for i in on], dtype=torch.float32)
        self.gens = [torch.Generator().manual_seed(7_919 * int(s) + 3) for s in seeds]
        self.side, self.chunk = side, chunk
        self._u: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor, step: int) -> torch.Tensor:
        e, b = x.shape[:2]
        if step % self.chunk == 0 or self._u is None or self._u.shape[-1] != b:
            # Uniform draws in [-1, 1] for the next ``chunk`` steps, one generator per member.
            u = [torch.rand(self.chunk, b, generator=g) * 2 - 1 for g in self.gens]
            self._u = torch.stack(u, 1).to(x.device)
        if self.on.device != x.device:  # copied once, not at every step
            self.on, self.sigma_on = self.on.to(x.device), self.sigma_on.to(x.device)
        on, sigma = self.on, self.sigma_on
        if not len(on):
            return x
        img = x.index_select(0, on).reshape(len(on), b, self.side, self.side)
        img = rotate(img, self._u[step % self.chunk].index_select(0, on) * 30.0 * sigma[:, None])
        img = blur(img, sigma / 2).reshape(len(on), *x.shape[1:])
        return img if len(on) == e else x.index_copy(0, on, img)
