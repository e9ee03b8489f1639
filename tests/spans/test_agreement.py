"""Span agreement and aggregation against hand-computed cases and brute-force references."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labelwise.errors import InvalidInputError
from labelwise.spans.agreement import aggregate_spans, pairwise_span_f1, span_f1
from labelwise.spans.document import Span

A = [Span(0, 5, "PER"), Span(10, 15, "LOC"), Span(20, 25, "ORG")]
B = [Span(0, 5, "PER"), Span(11, 15, "LOC"), Span(20, 25, "PER"), Span(30, 32, "LOC")]


def test_hand_computed_exact_and_overlap_f1() -> None:
    exact = span_f1([A], [B])
    assert (exact.precision, exact.recall) == (1 / 3, 1 / 4)  # only 0:5 PER is identical
    assert exact.f1 == pytest.approx(2 * (1 / 3) * (1 / 4) / (1 / 3 + 1 / 4))
    overlap = span_f1([A], [B], "overlap")  # 10:15 ~ 11:15 LOC now counts; ORG vs PER not
    assert (overlap.precision, overlap.recall) == (2 / 3, 2 / 4)
    assert overlap.f1 == pytest.approx(4 / 7)


def test_overlap_counts_each_side_separately() -> None:
    one_long = [[Span(0, 10, "X")]]
    two_short = [[Span(0, 4, "X"), Span(5, 10, "X")]]
    s = span_f1(one_long, two_short, "overlap")
    assert (s.matched_predicted, s.matched_reference, s.precision, s.recall) == (1, 2, 1.0, 1.0)


def test_empty_documents_agree_and_f1_is_symmetric() -> None:
    assert span_f1([[]], [[]]).f1 == 1.0
    assert span_f1([[]], [A]).f1 == 0.0
    for match in ("exact", "overlap"):
        assert span_f1([A], [B], match).f1 == span_f1([B], [A], match).f1  # type: ignore[arg-type]


def random_spans(rng: np.random.Generator, length: int = 40) -> list[Span]:
    cuts = sorted(rng.choice(length, size=2 * int(rng.integers(0, 5)), replace=False).tolist())
    return [
        Span(a, b, str(rng.choice(["X", "Y"]))) for a, b in zip(cuts[::2], cuts[1::2], strict=True)
    ]


def reference_f1(pred: list[list[Span]], ref: list[list[Span]], match: str) -> tuple[float, float]:
    def partner(s: Span, others: list[Span]) -> bool:
        if match == "exact":
            return any((s.start, s.end, s.label) == (o.start, o.end, o.label) for o in others)
        chars = set(range(s.start, s.end))
        return any(o.label == s.label and chars & set(range(o.start, o.end)) for o in others)

    hp = sum(partner(s, r) for p, r in zip(pred, ref, strict=True) for s in p)
    hr = sum(partner(s, p) for p, r in zip(pred, ref, strict=True) for s in r)
    n_p, n_r = sum(map(len, pred)), sum(map(len, ref))
    return (hp / n_p if n_p else float(n_r == 0)), (hr / n_r if n_r else float(n_p == 0))


@pytest.mark.parametrize("match", ["exact", "overlap"])
def test_f1_matches_a_character_set_reference(match: str) -> None:
    rng = np.random.default_rng(0)
    for _ in range(100):
        pred = [random_spans(rng) for _ in range(3)]
        ref = [random_spans(rng) for _ in range(3)]
        s = span_f1(pred, ref, match)  # type: ignore[arg-type]
        assert (s.precision, s.recall) == pytest.approx(reference_f1(pred, ref, match))


def test_pairwise_f1_is_the_mean_over_pairs() -> None:
    c = [Span(0, 5, "PER")]
    expected = np.mean([span_f1([A], [B]).f1, span_f1([A], [c]).f1, span_f1([B], [c]).f1])
    assert pairwise_span_f1([[A], [B], [c]]) == pytest.approx(expected)
    with pytest.raises(InvalidInputError, match="two annotators"):
        pairwise_span_f1([[A]])


def test_majority_keeps_spans_most_annotators_gave() -> None:
    third = [Span(0, 5, "PER"), Span(10, 15, "LOC")]
    assert aggregate_spans([A, B, third]) == [(Span(0, 5, "PER"), 3), (Span(10, 15, "LOC"), 2)]


def test_majority_matches_brute_force_and_never_overlaps() -> None:
    rng = np.random.default_rng(1)
    for _ in range(100):
        annotators = [random_spans(rng, 12) for _ in range(int(rng.integers(1, 6)))]
        n = len(annotators)
        universe = {s for a in annotators for s in a}
        expected = sorted(
            (s, sum(s in a for a in annotators))
            for s in universe
            if sum(s in a for a in annotators) > n / 2
        )
        got = aggregate_spans(annotators)
        assert got == expected
        assert not any(a.overlaps(b) for (a, _), (b, _) in itertools.combinations(got, 2))


def test_low_threshold_resolves_overlaps_by_votes_then_length() -> None:
    annotators = [[Span(0, 4, "X")], [Span(0, 4, "X")], [Span(2, 9, "Y")], [Span(3, 12, "Y")]]
    assert aggregate_spans(annotators, min_votes=1) == [(Span(0, 4, "X"), 2)]
    assert aggregate_spans(annotators[2:], min_votes=1) == [(Span(3, 12, "Y"), 1)]
    with pytest.raises(InvalidInputError, match="min_votes"):
        aggregate_spans(annotators, min_votes=5)
