"""Loaders for real, offline datasets: scikit-learn's sets, MNIST-like IDX files, Rotten
Tomatoes, and a user's own CSV / Parquet / NumPy file. Nothing is downloaded."""

from labelwise.datasets.base import Dataset, encode_labels
from labelwise.datasets.files import load_file
from labelwise.datasets.idx import parse_idx, read_idx
from labelwise.datasets.registry import DATASET_NAMES, available_datasets, load_dataset

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "available_datasets",
    "encode_labels",
    "load_dataset",
    "load_file",
    "parse_idx",
    "read_idx",
]
