"""The IDX reader on small files written here, and on the real MNIST files where present."""

from __future__ import annotations

import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest

from labelwise.datasets import read_idx
from labelwise.datasets.images import default_mnist_dir, load_idx_directory
from labelwise.errors import InvalidInputError

CODES = {
    np.dtype("u1"): 0x08,
    np.dtype("i1"): 0x09,
    np.dtype(">i2"): 0x0B,
    np.dtype(">i4"): 0x0C,
    np.dtype(">f4"): 0x0D,
    np.dtype(">f8"): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding, written literally: magic, big-endian dims, big-endian values."""
    big = array.astype(array.dtype.newbyteorder(">")) if array.dtype.itemsize > 1 else array
    header = bytes([0, 0, CODES[big.dtype], array.ndim])
    dims = b"".join(struct.pack(">I", d) for d in array.shape)
    return header + dims + big.tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_read_idx_round_trips_every_type(tmp_path: Path, dtype: str, compress: bool) -> None:
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    got = read_idx(write_idx(tmp_path / "a-idx3-ubyte", array, compress))
    assert got.shape == (3, 4, 5)
    assert got.dtype.isnative
    np.testing.assert_array_equal(got, array)


def test_read_idx_reads_a_label_vector(tmp_path: Path) -> None:
    labels = np.array([5, 0, 4, 1, 9], dtype="u1")
    got = read_idx(write_idx(tmp_path / "l.gz", labels, compress=True))
    assert got.tolist() == [5, 0, 4, 1, 9]


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    data = idx_bytes(np.zeros((2, 3, 3), dtype="u1"))[:-1]
    (tmp_path / "t").write_bytes(data)
    with pytest.raises(InvalidInputError, match="truncated or corrupt"):
        read_idx(tmp_path / "t")


def test_a_file_that_is_not_idx_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(InvalidInputError, match="not an IDX file"):
        read_idx(tmp_path / "x")


def test_an_idx_directory_becomes_a_dataset_with_a_fixed_test_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for stem, n in (("train", 12), ("t10k", 4)):
        write_idx(
            tmp_path / f"{stem}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (n, 28, 28)).astype("u1"),
            compress=True,
        )
        write_idx(
            tmp_path / f"{stem}-labels-idx1-ubyte", (np.arange(n) % 10).astype("u1"), compress=False
        )
    ds = load_idx_directory(tmp_path, "tiny", tuple("0123456789"))
    assert ds.X.shape == (12, 784) and ds.X_test is not None and ds.X_test.shape == (4, 784)
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0
    assert ds.image_shape == (1, 28, 28)
    assert ds.y.tolist() == [i % 10 for i in range(12)]


REAL_MNIST = default_mnist_dir() / "train-images-idx3-ubyte.gz"


@pytest.mark.slow
@pytest.mark.skipif(not REAL_MNIST.is_file(), reason="the real MNIST files are not at hand")
def test_the_real_mnist_training_images_match_the_canonical_file() -> None:
    raw = gzip.decompress(REAL_MNIST.read_bytes())
    assert hashlib.md5(raw).hexdigest() == "6bbc9ace898e44ae57da46a324031adb"
    images = read_idx(REAL_MNIST)
    labels = read_idx(REAL_MNIST.with_name("train-labels-idx1-ubyte.gz"))
    assert images.shape == (60000, 28, 28) and labels.shape == (60000,)
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first five MNIST labels
