"""The CRF tagger's marginals, best path and path probability against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labelwise.errors import InvalidInputError, NotFittedError

pytest.importorskip("pycrfsuite")

from labelwise.spans.crf import CRFTagger, token_features

TRAIN_X = [
    ["John", "lives", "in", "Paris", "."],
    ["Mary", "went", "to", "New", "York"],
    ["Acme", "Corp", "hired", "Ann"],
    ["She", "flew", "to", "Rome"],
]
TRAIN_Y = [
    ["B-PER", "O", "O", "B-LOC", "O"],
    ["B-PER", "O", "O", "B-LOC", "I-LOC"],
    ["B-ORG", "I-ORG", "O", "B-PER"],
    ["O", "O", "O", "B-LOC"],
]


@pytest.fixture(scope="module")
def tagger() -> CRFTagger:
    return CRFTagger(max_iterations=50).fit(TRAIN_X, TRAIN_Y)


def _brute_force(tagger: CRFTagger, words: list[str]) -> dict[tuple[int, ...], float]:
    """P(y | x) of every label sequence, from the CRF's weights by the definition."""
    labels, trans = tagger.transition_weights()
    state = tagger.state_weights()
    unary = np.zeros((len(words), len(labels)))
    for t, feats in enumerate(token_features(words)):
        for key, value in feats.items():
            attr, weight = (f"{key}:{value}", 1.0) if isinstance(value, str) else (key, value)
            for k, label in enumerate(labels):
                unary[t, k] += weight * state.get((attr, label), 0.0)
    scores = {}
    for path in itertools.product(range(len(labels)), repeat=len(words)):
        s = sum(unary[t, y] for t, y in enumerate(path))
        s += sum(trans[a, b] for a, b in itertools.pairwise(path))
        scores[path] = s
    top = max(scores.values())
    z = sum(np.exp(s - top) for s in scores.values())
    return {path: float(np.exp(s - top) / z) for path, s in scores.items()}


@pytest.mark.parametrize("words", [["Bob", "lives", "in", "Rome"], ["Ann", "hired", "Acme"]])
def test_best_path_and_its_probability_match_enumeration(
    tagger: CRFTagger, words: list[str]
) -> None:
    probs = _brute_force(tagger, words)
    best = max(probs, key=lambda p: probs[p])
    paths, proba = tagger.best_path([words])
    assert paths[0] == [tagger.labels_[k] for k in best]
    assert proba[0] == pytest.approx(probs[best], rel=1e-3)


def test_marginals_match_enumeration(tagger: CRFTagger) -> None:
    words = ["Mary", "flew", "to", "Paris"]
    probs = _brute_force(tagger, words)
    expected = np.zeros((len(words), len(tagger.labels_)))
    for path, p in probs.items():
        for t, k in enumerate(path):
            expected[t, k] += p
    (marginals,) = tagger.marginals([words])
    np.testing.assert_allclose(marginals, expected, atol=1e-3)
    np.testing.assert_allclose(marginals.sum(axis=1), 1.0, atol=1e-6)


def test_best_path_probability_is_not_the_product_of_max_marginals(tagger: CRFTagger) -> None:
    words = ["Bob", "went", "to", "New", "York"]
    (m,) = tagger.marginals([words])
    _, proba = tagger.best_path([words])
    assert proba[0] <= m.max(axis=1).min() + 1e-9  # a path is no likelier than any token of it
    assert not np.isclose(proba[0], np.prod(m.max(axis=1)), rtol=1e-3)


def test_labels_put_o_first_and_empty_sequences_are_allowed(tagger: CRFTagger) -> None:
    assert tagger.labels_[0] == "O"
    assert set(tagger.labels_) == {t for tags in TRAIN_Y for t in tags}
    assert tagger.marginals([[]])[0].shape == (0, len(tagger.labels_))
    paths, proba = tagger.best_path([[]])
    assert paths == [[]] and proba[0] == 1.0


def test_unfitted_and_mismatched_inputs_are_refused() -> None:
    with pytest.raises(NotFittedError, match="fit the CRFTagger"):
        CRFTagger().predict([["a"]])
    with pytest.raises(InvalidInputError, match="2 tokens but 1 tags"):
        CRFTagger().fit([["a", "b"]], [["O"]])
    with pytest.raises(InvalidInputError, match="at least one"):
        CRFTagger().fit([], [])


def test_suggestion_scores_bound_the_span_probability_from_above(tagger: CRFTagger) -> None:
    from labelwise.spans.document import Document
    from labelwise.spans.suggest import suggest_spans
    from labelwise.spans.tags import spans_to_tags
    from labelwise.spans.tokens import tokens_from_words

    words = ["Bob", "went", "to", "New", "York"]
    text, tokens = tokens_from_words(words)
    (suggestions,) = suggest_spans(tagger, [Document(text, tuple(tokens))])
    assert suggestions, "the CRF finds at least one entity here"
    probs = _brute_force(tagger, words)
    for s in suggestions:
        tags = spans_to_tags(tokens, [s.span])
        inside = [t for t, tag in enumerate(tags) if tag != "O"]
        exact = sum(
            p
            for path, p in probs.items()
            if all(tagger.labels_[path[t]] == tags[t] for t in inside)
            and (
                inside[-1] + 1 == len(words)
                or not tagger.labels_[path[inside[-1] + 1]].startswith("I-")
            )
        )
        assert exact <= s.score + 1e-3
        assert 0 < s.score <= 1


def test_the_shape_marks_the_scripts_of_text_without_spaces() -> None:
    shapes = [f["shape"] for f in token_features(["東京タワー", "ダーバン", "で", "2005", "서울"])]
    assert shapes == ["一ア", "ア", "あ", "d", "가"]
    assert token_features(["McDonald's"])[0]["shape"] == "XxXx'x"


def test_an_unseen_katakana_word_is_tagged_as_the_katakana_names_it_learned() -> None:
    # every word of the test sentence is unseen: only the kind of script can carry over
    words = [["ダーバン", "は", "港"], ["ロンドン", "の", "橋"], ["ベルリン", "が", "好き"]]
    words += [["今日", "は", "雨"], ["明日", "の", "天気"], ["先生", "が", "来る"]]
    tags = [["B-LOC", "O", "O"]] * 3 + [["O", "O", "O"]] * 3
    tagger = CRFTagger().fit(words, tags)
    assert tagger.predict([["ローマ", "と", "山"], ["昨日", "と", "山"]]) == [
        ["B-LOC", "O", "O"],
        ["O", "O", "O"],
    ]


def test_a_pickled_or_copied_tagger_reopens_its_model(tagger: CRFTagger) -> None:
    import copy
    import pickle

    words = [["Alice", "visited", "Paris"], ["Bob", "met", "Carol", "in", "Rome"]]
    expected = tagger.marginals(words)
    state = tagger.__getstate__()
    assert "tagger_" not in state and "model_bytes_" in state  # the C object is not pickled
    for clone in (pickle.loads(pickle.dumps(tagger)), copy.deepcopy(tagger)):
        assert clone.tagger_ is not tagger.tagger_
        for got, want in zip(clone.marginals(words), expected, strict=True):
            np.testing.assert_allclose(got, want)
    assert not hasattr(pickle.loads(pickle.dumps(CRFTagger())), "tagger_")  # unfitted stays so
