"""Batch diversity over sentence embeddings: top-k then farthest-first, against a literal
reference; MNLP's diverse variant through the registry; the hashed sentence embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.spans.diversity import diverse_top_k, sentence_embeddings
from labelwise.spans.selection import SequenceInputs, get_sequence_strategy
from labelwise.spans.strategies import independent_path_log_proba


def literal_diverse(scores: np.ndarray, x: np.ndarray, k: int, factor: int) -> list[int]:
    """Zhdanov's top-(factor k) filter, then Sener & Savarese's k-Center-Greedy, as written."""
    candidates = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: factor * k]
    chosen = [candidates[0]]
    while len(chosen) < k:
        best, best_gap = None, -1.0
        for c in candidates:  # in score order: the first of equal gaps wins
            if c in chosen:
                continue
            gap = min(float(np.linalg.norm(x[c] - x[j])) for j in chosen)
            if gap > best_gap:
                best, best_gap = c, gap
        chosen.append(best)  # type: ignore[arg-type]
    return chosen


@pytest.mark.parametrize("seed", range(5))
def test_diverse_top_k_matches_the_literal_algorithm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores, x = rng.random(40), rng.normal(size=(40, 3))
    for k, factor in ((1, 4), (5, 1), (5, 4), (8, 3)):
        got = diverse_top_k(scores, x, k, None, factor).tolist()
        assert got == literal_diverse(scores, x, k, factor)


def test_near_copies_of_the_best_sentence_give_way_to_a_different_one() -> None:
    x = np.array([[0.0, 0.0]] * 3 + [[5.0, 5.0], [9.0, 9.0]])
    scores = np.array([0.9, 0.89, 0.88, 0.5, 0.1])
    assert diverse_top_k(scores, x, 2, None, factor=1).tolist() == [0, 1]  # plain top-k
    assert diverse_top_k(scores, x, 2, None, factor=2).tolist() == [0, 3]
    excluded = np.array([True, False, False, False, False])
    assert diverse_top_k(scores, x, 2, excluded, factor=2).tolist() == [1, 4]


def test_bad_embeddings_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="embeddings must be"):
        diverse_top_k(np.ones(3), np.ones((4, 2)), 1)
    with pytest.raises(InvalidInputError, match="NaN"):
        diverse_top_k(np.ones(2), np.array([[0.0], [np.nan]]), 1)


def _inputs(n: int = 20, seed: int = 0) -> SequenceInputs:
    rng = np.random.default_rng(seed)
    marginals = [rng.dirichlet(np.ones(3), size=int(rng.integers(1, 7))) for _ in range(n)]
    return SequenceInputs(
        marginals, independent_path_log_proba(marginals), embeddings=rng.normal(size=(n, 4))
    )


def test_mnlp_diverse_with_factor_one_is_mnlp() -> None:
    inputs = _inputs()
    plain = get_sequence_strategy("mnlp").select(inputs, 6)
    one = get_sequence_strategy("mnlp_diverse", factor=1).select(inputs, 6)
    assert one.indices.tolist() == plain.indices.tolist()
    spread = get_sequence_strategy("mnlp_diverse").select(inputs, 6)
    assert spread.indices[0] == plain.indices[0]  # the best sentence always leads
    np.testing.assert_array_equal(spread.pool_scores, plain.pool_scores)  # MNLP's scores
    with pytest.raises(InvalidInputError, match="factor"):
        get_sequence_strategy("mnlp_diverse", factor=0)


def test_sentence_embeddings_put_sentences_of_the_same_words_together() -> None:
    pool = [
        ["Ada", "met", "Alan", "in", "London"],
        ["Ada", "met", "Alan", "in", "London"],
        ["Ada", "met", "Grace", "in", "Paris"],
        ["lol", "#tbt", "http://x.co"],
        [],
    ]
    x = sentence_embeddings(pool, dim=128)
    assert x.shape == (5, 128)
    np.testing.assert_allclose(np.linalg.norm(x[:4], axis=1), 1.0)
    assert not x[4].any()
    np.testing.assert_array_equal(x[0], x[1])
    assert x[0] @ x[2] > x[0] @ x[3] + 0.2


def test_the_round_engine_gives_mnlp_diverse_sentence_embeddings_of_the_pool() -> None:
    pytest.importorskip("pycrfsuite")
    from labelwise.loop import RoundEngine
    from labelwise.spans.crf import CRFTagger

    train = [["Ada", "met", "Alan"], ["Grace", "left", "Paris"], ["we", "ate", "lunch"]]
    tags = [["B-PER", "O", "B-PER"], ["B-PER", "O", "B-LOC"], ["O", "O", "O"]]
    pool = [["Ada", "met", "Grace"]] * 4 + [["lol", "#tbt", "omg"], ["Paris", "in", "May"]]
    engine = RoundEngine(CRFTagger(max_iterations=20), "mnlp_diverse")
    diverse = engine.run_round(train, tags, pool, 2, np.random.default_rng(0))
    plain = RoundEngine(CRFTagger(max_iterations=20), "mnlp").run_round(
        train, tags, pool, 2, np.random.default_rng(0)
    )
    # the copies score alike: plain MNLP may take two of them, the diverse batch never does
    assert len({tuple(pool[i]) for i in diverse.indices}) == 2
    assert len(set(plain.indices.tolist())) == 2
