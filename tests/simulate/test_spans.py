"""Span-F1 learning curves of sequence strategies on a shipped NER corpus."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import InvalidInputError

pytest.importorskip("pycrfsuite")

from labelwise.simulate.spans import SpanCurve, curve_area, simulate_spans
from labelwise.spans.corpora import load_ner_corpus
from labelwise.spans.crf import CRFTagger


@pytest.fixture(scope="module")
def hironsan():  # type: ignore[no-untyped-def]
    pytest.importorskip("hironsan")
    return load_ner_corpus("hironsan")


def test_simulation_records_a_curve_per_seed(hironsan) -> None:  # type: ignore[no-untyped-def]
    curves = simulate_spans(
        hironsan[:200],
        lambda: CRFTagger(max_iterations=20),
        "token_entropy",
        seeds=(0, 1),
        initial=10,
        batch_size=10,
        rounds=2,
    )
    assert [c.seed for c in curves] == [0, 1]
    assert curves[0].n_labeled == (10, 20, 30)
    assert all(0 <= f <= 1 for c in curves for f in c.span_f1)
    assert curves[0].span_f1[-1] > 0  # a CRF on 30 sentences finds some entities
    with pytest.raises(InvalidInputError, match="exceed the pool"):
        simulate_spans(hironsan[:50], CRFTagger, initial=40, batch_size=10, rounds=2)


def test_curve_area_is_the_normalized_trapezoid() -> None:
    curve = SpanCurve("x", 0, (10, 20, 40), (0.2, 0.4, 0.4))
    assert curve_area(curve) == pytest.approx((0.3 * 10 + 0.4 * 20) / 30)
    assert np.isclose(curve_area(SpanCurve("x", 0, (10,), (0.5,))), 0.5)


def test_summary_pairs_each_strategy_with_random_by_seed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from labelwise.simulate.spans import summarize_spans, write_span_results

    curves = [
        SpanCurve("random", 0, (10, 20, 30), (0.1, 0.2, 0.3)),
        SpanCurve("random", 1, (10, 20, 30), (0.2, 0.2, 0.2)),
        SpanCurve("mnlp", 0, (10, 20, 30), (0.1, 0.4, 0.5)),
        SpanCurve("mnlp", 1, (10, 20, 30), (0.1, 0.1, 0.1)),
    ]
    summary = summarize_spans(curves, "toy", "made up", "crf")
    diff = summary["strategies"]["mnlp"]["auc_minus_random"]
    expected = [curve_area(curves[2]) - curve_area(curves[0]), curve_area(curves[3]) - 0.2]
    assert diff["per_seed"] == pytest.approx(dict(enumerate(expected)))
    assert (
        diff["seeds_not_worse"] == 1 and "auc_minus_random" not in summary["strategies"]["random"]
    )
    paths = write_span_results(curves, tmp_path, dataset="toy", source="made up")
    lines = paths["rounds"].read_text().splitlines()
    assert lines[0] == "strategy,seed,round,n_labels,span_f1" and len(lines) == 1 + 12
    assert "| mnlp |" in paths["report"].read_text()
