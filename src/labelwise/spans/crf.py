"""A linear-chain CRF tagger over hand-made token features (python-crfsuite), the light default.

It gives what the sequence strategies need: per-token marginals ``P(y_t = k | x)`` (forward-
backward), the best path (Viterbi) and that path's probability ``P(y* | x)`` under the CRF.
That probability is the CRF's own, not a product of marginals: the Viterbi path over marginals
is neither the CRF's best path nor has the CRF's probability (see
:func:`labelwise.spans.strategies.least_confidence_path`).

Needs ``python-crfsuite`` (``pip install 'labelwise[spans]'``), imported when a tagger is built.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError, NotFittedError

__all__ = ["CRFTagger", "token_features"]

Features = dict[str, float | str]


#: Scripts of text written without spaces, each shown in a word's shape by one character
#: (CJK ideographs, hiragana, katakana with its long-vowel mark and half-width forms, Hangul):
#: ``"南アフリカ共和国"`` -> ``"一ア一"``. Their words are mostly unseen in a small labeled set;
#: the kind of script (katakana: a foreign name; kanji then hiragana: a verb) generalizes.
_SCRIPTS = (
    (re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆]"), "一"),
    (re.compile(r"[\u3041-\u309f]"), "あ"),
    (re.compile(r"[\u30a0-\u30ff\uff66-\uff9f]"), "ア"),
    (re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"), "가"),
)


@functools.lru_cache(maxsize=1 << 16)
def _shape(word: str) -> str:
    """Word shape with runs collapsed: ``"McDonald's"`` -> ``"XxXx'x"``, ``"2024"`` -> ``"d"``,
    ``"東京タワー"`` -> ``"一ア"`` (:data:`_SCRIPTS`). Cached: a corpus repeats its words."""
    shape = re.sub(r"[A-Z]", "X", word)
    shape = re.sub(r"[a-z]", "x", shape)
    shape = re.sub(r"\d", "d", shape)
    if not shape.isascii():
        for pattern, mark in _SCRIPTS:
            shape = pattern.sub(mark, shape)
    return re.sub(r"(.)\1+", r"\1", shape)


def _word_features(word: str, low: str, shape: str) -> Features:
    return {
        "lower": low,
        "shape": shape,
        "suf3": low[-3:],
        "suf2": low[-2:],
        "pre2": low[:2],
        "title": float(word.istitle()),
        "upper": float(word.isupper()),
        "digit": float(word.isdigit()),
        "at": float(word.startswith(("@", "#"))),
        "url": float(word.startswith(("http", "www."))),
    }


def token_features(words: Sequence[str]) -> list[Features]:
    """Features of each token: its own (lower case, shape, affixes, case flags) and its
    neighbours' within two positions, plus sentence-boundary markers."""
    lows = [word.lower() for word in words]
    shapes = [_shape(word) for word in words]
    titles = [float(word.istitle()) for word in words]
    features: list[Features] = []
    for i, word in enumerate(words):
        feats: Features = {"bias": 1.0, "pre1": word[:1].lower(), "suf1": word[-1:].lower()}
        feats.update(_word_features(word, lows[i], shapes[i]))
        for offset in (-2, -1, 1, 2):
            j = i + offset
            if 0 <= j < len(words):
                feats[f"{offset}:lower"] = lows[j]
                feats[f"{offset}:shape"] = shapes[j]
                feats[f"{offset}:title"] = titles[j]
            else:
                feats[f"{offset}:pad"] = 1.0
        features.append(feats)
    return features


def _crfsuite() -> Any:
    try:
        import pycrfsuite
    except ImportError as exc:
        raise InvalidInputError(
            "the CRF tagger needs python-crfsuite: pip install 'labelwise[spans]'"
        ) from exc
    return pycrfsuite


class CRFTagger:
    """A linear-chain CRF trained with L-BFGS and elastic-net penalties (``c1`` L1, ``c2`` L2).

    Parameters
    ----------
    c1, c2 : L1 and L2 regularization strengths.
    max_iterations : L-BFGS iterations.
    features : maps a token list to one feature dict per token (:func:`token_features`).
    all_possible_transitions : learn weights for label transitions never seen in training
        (negative ones, so that ill-formed ``O -> I-X`` becomes unlikely).

    Attributes
    ----------
    labels_ : the tags the model knows, ``"O"`` first then sorted; the column order of
        :meth:`marginals`.
    """

    #: The round engine's task type for taggers: a pool of token lists, one tag per token.
    task = "sequence"

    def __init__(
        self,
        c1: float = 0.05,
        c2: float = 0.05,
        max_iterations: int = 100,
        features: Callable[[Sequence[str]], list[Features]] = token_features,
        all_possible_transitions: bool = True,
    ) -> None:
        self.c1 = c1
        self.c2 = c2
        self.max_iterations = max_iterations
        self.features = features
        self.all_possible_transitions = all_possible_transitions

    def fit(self, sequences: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> CRFTagger:
        """Train on token sequences and their tags (one tag per token)."""
        if len(sequences) != len(tags):
            raise InvalidInputError(f"{len(sequences)} sequences but {len(tags)} tag sequences")
        if not sequences:
            raise InvalidInputError("the CRF needs at least one labeled sequence to fit")
        crfsuite = _crfsuite()
        trainer = crfsuite.Trainer(verbose=False)
        for i, (words, seq_tags) in enumerate(zip(sequences, tags, strict=True)):
            if len(words) != len(seq_tags):
                raise InvalidInputError(
                    f"sequence {i} has {len(words)} tokens but {len(seq_tags)} tags"
                )
            if words:
                trainer.append(self.features(words), list(seq_tags))
        trainer.set_params(
            {
                "c1": self.c1,
                "c2": self.c2,
                "max_iterations": self.max_iterations,
                "feature.possible_transitions": self.all_possible_transitions,
            }
        )
        fd, path = tempfile.mkstemp(suffix=".crfsuite")
        os.close(fd)
        try:
            trainer.train(path)
            with open(path, "rb") as handle:
                self.model_bytes_ = handle.read()
        finally:
            os.unlink(path)
        tagger = crfsuite.Tagger()
        tagger.open_inmemory(self.model_bytes_)
        self.tagger_ = tagger
        known = set(tagger.labels())
        self.labels_ = (["O"] if "O" in known else []) + sorted(known - {"O"})
        return self

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and copied without the compiled tagger (a C object): its bytes are kept."""
        state = dict(self.__dict__)
        state.pop("tagger_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Read back or copied: the tagger is opened again from the model's bytes."""
        self.__dict__.update(state)
        if "model_bytes_" in state:
            tagger = _crfsuite().Tagger()
            tagger.open_inmemory(self.model_bytes_)
            self.tagger_ = tagger

    def _fitted(self) -> Any:
        if not hasattr(self, "tagger_"):
            raise NotFittedError("fit the CRFTagger before asking it for tags or marginals")
        return self.tagger_

    def predict(self, sequences: Sequence[Sequence[str]]) -> list[list[str]]:
        """The best (Viterbi) tag sequence of each token sequence."""
        tagger = self._fitted()
        return [list(tagger.tag(self.features(words))) if words else [] for words in sequences]

    def best_path(
        self, sequences: Sequence[Sequence[str]]
    ) -> tuple[list[list[str]], NDArray[np.float64]]:
        """The best tag sequence of each input and its probability ``P(y* | x)`` under the CRF.

        An empty sequence has the empty path, of probability 1.
        """
        tagger = self._fitted()
        paths: list[list[str]] = []
        proba = np.ones(len(sequences))
        for i, words in enumerate(sequences):
            if not words:
                paths.append([])
                continue
            path = list(tagger.tag(self.features(words)))
            paths.append(path)
            proba[i] = tagger.probability(path)
        return paths, proba

    def marginals(self, sequences: Sequence[Sequence[str]]) -> list[NDArray[np.float64]]:
        """Per-token marginals: one ``(T_i, K)`` array per sequence, columns as ``labels_``."""
        tagger = self._fitted()
        out: list[NDArray[np.float64]] = []
        for words in sequences:
            m = np.empty((len(words), len(self.labels_)))
            if words:
                tagger.set(self.features(words))
                for k, label in enumerate(self.labels_):
                    for t in range(len(words)):
                        m[t, k] = tagger.marginal(label, t)
            out.append(m)
        return out

    def transition_weights(self) -> tuple[list[str], NDArray[np.float64]]:
        """The learned transition weights ``W[a, b]`` (from label ``a`` to ``b``), rows as
        ``labels_``; for inspection and for checking the CRF against a brute-force reference."""
        info = self._fitted().info()
        index = {label: k for k, label in enumerate(self.labels_)}
        weights = np.zeros((len(self.labels_), len(self.labels_)))
        for (a, b), w in info.transitions.items():
            weights[index[a], index[b]] = w
        return self.labels_, weights

    def state_weights(self) -> dict[tuple[str, str], float]:
        """The learned state-feature weights, ``{(attribute, label): weight}``."""
        return dict(self._fitted().info().state_features)
