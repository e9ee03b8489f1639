"""Features for items that arrive one by one: hashed text, or the numbers an item carries.

A stream (or a Label Studio project) has no fitted vocabulary to lean on, so text goes through
a fixed, stateless :class:`~sklearn.feature_extraction.text.HashingVectorizer` (Weinberger et
al. 2009, "Feature Hashing for Large Scale Multitask Learning"): word unigrams and bigrams,
``2**18`` columns, l2-normalised rows. The same text always gets the same row, in any process,
so a model trained yesterday scores today's items without a saved vocabulary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labelwise.errors import InvalidInputError

#: Columns of the hashed text features.
N_HASHED_FEATURES = 2**18


def text_vectorizer() -> Any:
    """The fixed hashing vectorizer shared by the stream and the Label Studio backend."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        n_features=N_HASHED_FEATURES,
        ngram_range=(1, 2),
        alternate_sign=False,
        norm="l2",
        lowercase=True,
    )


def hashed_text(texts: Sequence[str]) -> Any:
    """Sparse (N, 2**18) features of ``texts``; refuses anything that is not a string."""
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if bad:
        raise InvalidInputError(
            f"text items must be strings; item {bad[0]} is {type(texts[bad[0]]).__name__}"
        )
    return text_vectorizer().transform(list(texts))


def text_classifier(classes: Sequence[str]) -> Any:
    """A :class:`~labelwise.models.SklearnModel` over hashed text: logistic regression with
    the label space fixed to ``classes`` (probability columns in that order)."""
    from sklearn.linear_model import LogisticRegression

    from labelwise.models import SklearnModel

    return SklearnModel(LogisticRegression(C=10.0, max_iter=1000), classes=list(classes))
