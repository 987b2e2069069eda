"""MNIST data: the IDX reader on files written here, the parity split, the missing-data error,
augmentation against torchvision, and (when $GROKPAPER_MNIST is set) the real files."""

import gzip
import os

import numpy as np
import pytest
import torch

from grokpaper.core import mnist_data as mnist


def _fake_folder(folder, n=6, *, gz=True, train=False, layout=""):
    rng = np.random.default_rng(0)
    base = folder / layout if layout else folder
    base.mkdir(parents=True, exist_ok=True)
    ext = ".gz" if gz else ""
    splits = ["t10k", "train"] if train else ["t10k"]
    out = {}
    for split in splits:
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        img_stem, lab_stem = mnist.FILES[split]
        mnist.write_idx(base / f"{img_stem}{ext}", images)
        mnist.write_idx(base / f"{lab_stem}{ext}", labels)
        out[split] = (images, labels)
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trips_a_tiny_file(tmp_path, gz):
    a = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = mnist.write_idx(tmp_path / ("x.idx.gz" if gz else "x.idx"), a)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == gz
    header = (gzip.decompress(raw) if gz else raw)[:16]
    # magic 2051 (0x00000803), then the dims as big-endian uint32
    assert header == bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
    np.testing.assert_array_equal(mnist.read_idx(path, magic=mnist.IMAGES_MAGIC), a)


def test_read_idx_rejects_wrong_magic_truncated_data_and_non_idx(tmp_path):
    path = mnist.write_idx(tmp_path / "labels", np.arange(5, dtype=np.uint8))
    assert mnist.read_idx(path, magic=mnist.LABELS_MAGIC).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        mnist.read_idx(path, magic=mnist.IMAGES_MAGIC)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="data bytes"):
        mnist.read_idx(path)
    (tmp_path / "junk").write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.read_idx(tmp_path / "junk")


def test_big_endian_int32_payload_is_decoded(tmp_path):
    values = np.array([1, -2, 70000], dtype=">i4")
    path = tmp_path / "ints"
    path.write_bytes(bytes([0, 0, 0x0C, 1, 0, 0, 0, 3]) + values.tobytes())
    assert mnist.read_idx(path).tolist() == [1, -2, 70000]


def test_parity_split_is_deterministic_and_disjoint():
    images = np.arange(10)[:, None, None] * np.ones((1, 28, 28), dtype=np.int64)
    labels = np.arange(10)
    tr_x, tr_y, te_x, te_y = mnist.parity_split(images, labels)
    assert tr_y.tolist() == [0, 2, 4, 6, 8] and te_y.tolist() == [1, 3, 5, 7, 9]
    assert (tr_x[:, 0, 0] == tr_y).all() and (te_x[:, 0, 0] == te_y).all()
    again = mnist.parity_split(images, labels)
    assert all(np.array_equal(a, b) for a, b in zip(again, (tr_x, tr_y, te_x, te_y),
                                                     strict=True))


def test_test_split_only_folder_is_split_by_parity(tmp_path):
    files = _fake_folder(tmp_path / "d", n=7, gz=False)
    data = mnist.load(tmp_path / "d")
    images, labels = files["t10k"]
    assert data.source == "t10k-parity"
    np.testing.assert_array_equal(data.train_images, images[0::2])
    np.testing.assert_array_equal(data.test_labels, labels[1::2])
    assert "4 images" in data.describe() and "3 images" in data.describe()
    assert "parity" in data.describe()


def test_official_files_in_torchvision_layout_are_found(tmp_path):
    files = _fake_folder(tmp_path / "root", n=4, train=True, layout="MNIST/raw")
    data = mnist.load(tmp_path / "root")
    assert data.source == "official"
    np.testing.assert_array_equal(data.train_images, files["train"][0])
    np.testing.assert_array_equal(data.test_images, files["t10k"][0])
    assert data.fingerprint.startswith("official-")


def test_missing_data_error_names_both_fixes(tmp_path, monkeypatch):
    monkeypatch.delenv(mnist.ENV, raising=False)
    with pytest.raises(mnist.MnistNotFound) as err:
        mnist.find_dir()
    msg = str(err.value)
    assert "GROKPAPER_MNIST" in msg and "data_dir" in msg and "download" in msg
    with pytest.raises(mnist.MnistNotFound, match="looked in data_dir="):
        mnist.load(tmp_path)  # an empty folder
    monkeypatch.setenv(mnist.ENV, str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="GROKPAPER_MNIST="):
        mnist.load()


def test_environment_variable_is_used_when_no_data_dir(tmp_path, monkeypatch):
    _fake_folder(tmp_path / "env", n=4)
    monkeypatch.setenv(mnist.ENV, str(tmp_path / "env"))
    assert mnist.find_dir() == (tmp_path / "env").resolve()


def test_rotation_and_blur_match_torchvision():
    f = pytest.importorskip("torchvision.transforms.v2.functional")
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(5, 1, 28, 28, generator=g) > 0.7).float()
    for angle in (0.0, 6.0, -17.0, 30.0):
        ref = torch.stack([f.rotate(x[i], angle) for i in range(5)])
        torch.testing.assert_close(mnist.rotate(x, torch.full((5, 1), angle)), ref)
    for std in (0.05, 0.5):
        ref = f.gaussian_blur(x, [3, 3], [std, std])
        mine = mnist.blur(x.transpose(0, 1), torch.tensor([std])).transpose(0, 1)
        torch.testing.assert_close(mine, ref)


def test_augment_hook_is_per_member_and_sigma_zero_is_identity():
    x = torch.rand(3, 4, 784)
    aug = mnist.Augment([0.0, 1.0, 0.3], seeds=[0, 1, 2])
    out = aug(x, 0)
    torch.testing.assert_close(out[0], x[0])  # no augmentation for sigma = 0
    assert not torch.allclose(out[1], x[1])
    # member 1's augmentation depends on its own seed only
    alone = mnist.Augment([1.0], seeds=[1])(x[1:2], 0)
    torch.testing.assert_close(alone[0], out[1])


needs_mnist = pytest.mark.skipif(
    not os.environ.get(mnist.ENV),
    reason=f"${mnist.ENV} is not set (make test sets it when ../shared/data/mnist exists)")


@needs_mnist
def test_real_mnist_files_load_with_both_pools():
    data = mnist.load()
    assert data.train_images.shape[1:] == (28, 28) and data.train_images.dtype == np.uint8
    assert set(np.unique(data.test_labels)) == set(range(10))
    if data.source == "t10k-parity":
        assert len(data.train_labels) == len(data.test_labels) == 5000
    px = mnist.pixels(data.train_images[:10])
    assert px.shape == (10, 784) and px.min() >= 0 and px.max() <= 1
