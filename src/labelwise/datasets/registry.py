"""``load_dataset(name)``: one entry point for every bundled dataset and for a user's file."""

from __future__ import annotations

from pathlib import Path

from labelwise.datasets.base import Dataset
from labelwise.datasets.bundled import SKLEARN_SETS, load_mnist_5k, load_sklearn
from labelwise.datasets.files import is_data_file, load_file
from labelwise.datasets.images import load_fashion_mnist, load_mnist
from labelwise.datasets.text import TextFeatures, load_rotten_tomatoes
from labelwise.errors import InvalidInputError

DATASET_NAMES: tuple[str, ...] = (
    *SKLEARN_SETS,
    "mnist_5k",
    "fashion_mnist",
    "mnist",
    "rotten_tomatoes",
)


def available_datasets() -> list[str]:
    """Names that :func:`load_dataset` knows (any CSV/Parquet/.npy/.npz path works too)."""
    return list(DATASET_NAMES)


def load_dataset(
    name: str | Path,
    *,
    data_dir: str | Path | None = None,
    label_column: str = "label",
    text_features: TextFeatures = "minilm",
    cache_dir: str | Path | None = None,
) -> Dataset:
    """Load a dataset by name, or a user's file by path. Nothing is ever downloaded.

    Parameters
    ----------
    name : one of :func:`available_datasets`, or a path to a ``.csv``, ``.parquet``, ``.npy``
        or ``.npz`` file.
    data_dir : where the IDX files of ``mnist`` / ``fashion_mnist`` are (defaults: see
        :func:`labelwise.datasets.images.default_mnist_dir` and the Debian package's directory).
    label_column : the label column of a user's file.
    text_features : ``"minilm"`` sentence embeddings or ``"tfidf"`` LSA features for text sets.
    cache_dir : where text embeddings are cached.

    Examples
    --------
    >>> load_dataset("iris")
    Dataset('iris', n=150, d=4, classes=3)
    """
    key = str(name)
    if key in SKLEARN_SETS:
        return load_sklearn(key)
    if key == "mnist_5k":
        return load_mnist_5k()
    if key == "fashion_mnist":
        return load_fashion_mnist(data_dir)
    if key == "mnist":
        return load_mnist(data_dir)
    if key == "rotten_tomatoes":
        cache = Path(cache_dir) if cache_dir is not None else None
        return load_rotten_tomatoes(text_features, cache)
    if is_data_file(key):
        return load_file(key, label_column)
    raise InvalidInputError(
        f"unknown dataset {key!r}: use one of {', '.join(DATASET_NAMES)}, or a path to a "
        ".csv, .parquet, .npy or .npz file with a label column"
    )
