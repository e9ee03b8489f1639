"""MNIST and Fashion-MNIST from their standard IDX files (60k train + 10k test, 28 x 28).

Nothing is downloaded: Fashion-MNIST comes from the Debian package ``dataset-fashion-mnist``,
MNIST from a directory of the four standard files that the user points at.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from labelwise.datasets.base import Dataset
from labelwise.datasets.idx import read_idx
from labelwise.errors import InvalidInputError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
#: Environment variable naming the directory of the MNIST IDX files.
MNIST_ENV = "LABELWISE_MNIST_DIR"


def default_mnist_dir() -> Path:
    """``$LABELWISE_MNIST_DIR``, else ``../shared/data/mnist`` beside the project checkout."""
    if os.environ.get(MNIST_ENV):
        return Path(os.environ[MNIST_ENV])
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "data" / "mnist"


def find_idx_files(directory: Path) -> dict[str, Path]:
    """The four standard IDX files in ``directory`` (``.gz`` or not); raise if any is missing."""
    found: dict[str, Path] = {}
    missing = []
    for key, stem in IDX_FILES.items():
        for candidate in (directory / f"{stem}.gz", directory / stem):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            missing.append(stem)
    if missing:
        raise FileNotFoundError(", ".join(missing))
    return found


def load_idx_directory(directory: Path, name: str, class_names: tuple[str, ...]) -> Dataset:
    """A train/test dataset from a directory of the four standard IDX files."""
    files = find_idx_files(directory)
    train_x = read_idx(files["train_images"])
    test_x = read_idx(files["test_images"])
    train_y = read_idx(files["train_labels"])
    test_y = read_idx(files["test_labels"])
    if train_x.ndim != 3 or train_x.shape[0] != train_y.shape[0]:
        raise InvalidInputError(f"{directory}: images {train_x.shape} and labels disagree")
    side = train_x.shape[1:]
    return Dataset(
        name=name,
        X=train_x.reshape(len(train_x), -1).astype(np.float32) / 255.0,
        y=train_y.astype(np.intp),
        class_names=class_names,
        X_test=test_x.reshape(len(test_x), -1).astype(np.float32) / 255.0,
        y_test=test_y.astype(np.intp),
        image_shape=(1, *side),
    )


def load_fashion_mnist(data_dir: str | Path | None = None) -> Dataset:
    """Fashion-MNIST (Xiao et al., 2017): 60k train + 10k test images of 10 clothing classes."""
    directory = Path(data_dir) if data_dir is not None else FASHION_MNIST_DIR
    try:
        return load_idx_directory(directory, "fashion_mnist", FASHION_CLASSES)
    except FileNotFoundError as exc:
        raise InvalidInputError(
            f"Fashion-MNIST files not found in {directory} (missing {exc}): install them with "
            "'apt-get install -y dataset-fashion-mnist' (Debian/Ubuntu), or pass --data-dir "
            "pointing at a directory holding the four standard IDX files"
        ) from None


def load_mnist(data_dir: str | Path | None = None) -> Dataset:
    """MNIST (LeCun et al., 1998): 60k train + 10k test handwritten digits."""
    directory = Path(data_dir) if data_dir is not None else default_mnist_dir()
    try:
        return load_idx_directory(directory, "mnist", tuple(str(d) for d in range(10)))
    except FileNotFoundError as exc:
        raise InvalidInputError(
            f"MNIST files not found in {directory} (missing {exc}): pass --data-dir (or set "
            f"{MNIST_ENV}) to a directory holding train-images-idx3-ubyte.gz, "
            "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz"
        ) from None
