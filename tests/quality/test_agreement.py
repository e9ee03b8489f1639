"""Agreement coefficients against published values, sklearn and slow literal references."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from labelwise.errors import InvalidInputError
from labelwise.quality import (
    annotator_agreement,
    cohen_kappa,
    fleiss_counts,
    fleiss_kappa,
    fleiss_kappa_per_category,
    krippendorff_alpha,
    specific_agreement,
)

HERE = Path(__file__).resolve().parent

#: Fleiss (1971), Table 1: 30 patients, 6 psychiatrists each, into depression, personality
#: disorder, schizophrenia, neurosis, other (as transcribed in JonasMoss/quadagree data_raw).
FLEISS_1971 = np.array(
    [
        [0, 0, 0, 6, 0], [0, 3, 0, 0, 3], [0, 1, 4, 0, 1], [0, 0, 0, 0, 6], [0, 3, 0, 3, 0],
        [2, 0, 4, 0, 0], [0, 0, 4, 0, 2], [2, 0, 3, 1, 0], [2, 0, 0, 4, 0], [0, 0, 0, 0, 6],
        [1, 0, 0, 5, 0], [1, 1, 0, 4, 0], [0, 3, 3, 0, 0], [1, 0, 0, 5, 0], [0, 2, 0, 3, 1],
        [0, 0, 5, 0, 1], [3, 0, 0, 1, 2], [5, 1, 0, 0, 0], [0, 2, 0, 4, 0], [1, 0, 2, 0, 3],
        [0, 0, 0, 0, 6], [0, 1, 0, 5, 0], [0, 2, 0, 1, 3], [2, 0, 0, 4, 0], [1, 0, 0, 4, 1],
        [0, 5, 0, 1, 0], [4, 0, 0, 0, 2], [0, 2, 0, 4, 0], [1, 0, 5, 0, 0], [0, 0, 0, 0, 6],
    ]
)  # fmt: skip

#: Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders x 12
#: units, NaN where a coder gave no value.
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
)


# ---------------------------------------------------------------- Cohen's kappa


def test_cohen_kappa_textbook_two_by_two() -> None:
    # 50 proposals: both yes 20, A yes / B no 5, A no / B yes 10, both no 15 -> p_o = 0.7,
    # p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.4 (the standard worked example).
    a = np.repeat([1, 1, 0, 0], [20, 5, 10, 15])
    b = np.repeat([1, 0, 1, 0], [20, 5, 10, 15])
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@st.composite
def rater_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    n_labels = draw(st.integers(2, 5))
    n = draw(st.integers(2, 40))
    labels = st.lists(st.integers(0, n_labels - 1), min_size=n, max_size=n)
    return np.array(draw(labels)), np.array(draw(labels)), n_labels


def slow_cohen(a: list[int], b: list[int], labels: list[int], weights: str | None) -> float:
    n = len(a)
    pos = {label: i for i, label in enumerate(labels)}

    def w(i: int, j: int) -> float:
        d = abs(pos[i] - pos[j])
        return {None: float(d > 0), "linear": float(d), "quadratic": float(d * d)}[weights]

    observed = sum(w(x, y) for x, y in zip(a, b, strict=True)) / n
    expected = sum(w(i, j) * a.count(i) / n * b.count(j) / n for i in labels for j in labels)
    return 1 - observed / expected


@settings(max_examples=100, deadline=None)
@given(rater_pairs(), st.sampled_from([None, "linear", "quadratic"]))
def test_cohen_kappa_matches_sklearn_and_literal_formula(
    pair: tuple[np.ndarray, np.ndarray, int], weights: str | None
) -> None:
    a, b, n_labels = pair
    labels = list(range(n_labels))
    ours = cohen_kappa(a, b, labels=labels, weights=weights)  # type: ignore[arg-type]
    chance_disagreement = slow_disagreement_by_chance(a, b, labels, weights)
    if chance_disagreement == 0:
        assert math.isnan(ours)
        return
    with np.errstate(all="ignore"):
        reference = cohen_kappa_score(a, b, labels=labels, weights=weights)
    assert ours == pytest.approx(reference, abs=1e-12)
    assert ours == pytest.approx(slow_cohen(a.tolist(), b.tolist(), labels, weights), abs=1e-12)


def slow_disagreement_by_chance(
    a: np.ndarray, b: np.ndarray, labels: list[int], weights: str | None
) -> float:
    pa = [float(np.mean(a == i)) for i in labels]
    pb = [float(np.mean(b == j)) for j in labels]
    power = {None: 0, "linear": 1, "quadratic": 2}[weights]
    return sum(
        pa[i] * pb[j] * (abs(i - j) ** power if i != j else 0)
        for i, j in itertools.product(range(len(labels)), repeat=2)
    )


def test_cohen_kappa_accepts_string_labels_and_is_one_for_identical_raters() -> None:
    a = ["cat", "dog", "dog", "bird"]
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(a, ["dog", "cat", "bird", "dog"]) < 0


def test_cohen_kappa_is_nan_when_both_raters_use_one_label() -> None:
    assert math.isnan(cohen_kappa([2, 2, 2], [2, 2, 2]))


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        ([0, 1], [0], {}, "same length"),
        ([0, 3], [0, 1], {"labels": [0, 1]}, "not in labels"),
        ([0, 1], [0, 1], {"weights": "cubic"}, "weights"),
        ([0.0, np.nan], [0, 1], {}, "NaN"),
    ],
)
def test_cohen_kappa_refuses_bad_input(a: list, b: list, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        cohen_kappa(a, b, **kwargs)


# ---------------------------------------------------------------- Fleiss' kappa


def test_fleiss_kappa_reproduces_fleiss_1971() -> None:
    assert fleiss_kappa(FLEISS_1971) == pytest.approx(0.430, abs=5e-4)


def test_fleiss_per_category_kappa_reproduces_fleiss_1971() -> None:
    np.testing.assert_allclose(
        fleiss_kappa_per_category(FLEISS_1971), [0.245, 0.245, 0.520, 0.471, 0.566], atol=5e-4
    )


def test_fleiss_kappa_ten_subjects_fourteen_raters() -> None:
    # The worked example of Wikipedia's "Fleiss' kappa" article: kappa = 0.210.
    table = np.array(
        [
            [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
        ]
    )  # fmt: skip
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=5e-4)


def slow_fleiss(counts: list[list[int]]) -> float:
    n_items, n = len(counts), sum(counts[0])
    agree = sum((sum(x * x for x in row) - n) / (n * (n - 1)) for row in counts) / n_items
    shares = [sum(row[j] for row in counts) / (n_items * n) for j in range(len(counts[0]))]
    chance = sum(p * p for p in shares)
    return (agree - chance) / (1 - chance)


@st.composite
def fleiss_tables(draw: st.DrawFn) -> np.ndarray:
    n_items, n_cats, n_raters = (
        draw(st.integers(1, 10)),
        draw(st.integers(2, 5)),
        draw(st.integers(2, 7)),
    )
    rows = []
    for _ in range(n_items):
        picks = draw(st.lists(st.integers(0, n_cats - 1), min_size=n_raters, max_size=n_raters))
        rows.append(np.bincount(picks, minlength=n_cats))
    return np.array(rows)


@settings(max_examples=100, deadline=None)
@given(fleiss_tables())
def test_fleiss_kappa_matches_literal_formula_and_per_category_average(table: np.ndarray) -> None:
    shares = table.sum(axis=0) / table.sum()
    if (shares**2).sum() == 1.0:
        assert math.isnan(fleiss_kappa(table))
        return
    kappa = fleiss_kappa(table)
    assert kappa == pytest.approx(slow_fleiss(table.tolist()), abs=1e-12)
    # Fleiss (1971): the overall kappa is the p_j q_j-weighted mean of the per-category kappas.
    per_cat = fleiss_kappa_per_category(table)
    weight = shares * (1 - shares)
    used = weight > 0
    assert kappa == pytest.approx(
        (weight[used] * per_cat[used]).sum() / weight[used].sum(), abs=1e-12
    )


def test_fleiss_counts_builds_the_table_from_annotations() -> None:
    annotations = [(0, 0, 1), (0, 1, 1), (0, 2, 0), (1, 0, 2), (1, 1, 2), (1, 2, 2)]
    np.testing.assert_array_equal(fleiss_counts(annotations, 3), [[1, 2, 0], [0, 0, 3]])


def test_fleiss_kappa_refuses_unequal_ratings_per_item() -> None:
    with pytest.raises(InvalidInputError, match="krippendorff_alpha"):
        fleiss_kappa([[2, 1], [1, 1]])
    with pytest.raises(InvalidInputError, match="at least 2 ratings"):
        fleiss_kappa([[1, 0], [0, 1]])


# ---------------------------------------------------------------- Krippendorff's alpha


@pytest.mark.parametrize(
    ("level", "expected"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_krippendorff_alpha_reproduces_krippendorff_2011(level: str, expected: float) -> None:
    alpha = krippendorff_alpha(KRIPPENDORFF_2011, level=level)  # type: ignore[arg-type]
    assert alpha == pytest.approx(expected, abs=5e-4)


def test_krippendorff_alpha_reads_minus_one_as_missing() -> None:
    coded = np.where(np.isnan(KRIPPENDORFF_2011), -1, KRIPPENDORFF_2011).astype(int)
    assert krippendorff_alpha(coded) == pytest.approx(krippendorff_alpha(KRIPPENDORFF_2011))
    # With missing=None, -1 is a value like any other, and alpha changes.
    assert krippendorff_alpha(coded, missing=None) != pytest.approx(0.743, abs=5e-4)


def slow_alpha(data: np.ndarray, level: str) -> float:
    """Krippendorff's pairable-values definition, pair by pair."""
    units = [[v for v in data[:, u] if not np.isnan(v)] for u in range(data.shape[1])]
    units = [vals for vals in units if len(vals) >= 2]
    values = sorted({v for vals in units for v in vals})
    o = {(c, k): 0.0 for c in values for k in values}
    for vals in units:
        for i, j in itertools.permutations(range(len(vals)), 2):
            o[vals[i], vals[j]] += 1 / (len(vals) - 1)
    n_c = {c: sum(o[c, k] for k in values) for c in values}
    n = sum(n_c.values())

    def delta(c: float, k: float) -> float:
        if level == "nominal":
            return float(c != k)
        return (c - k) ** 2

    d_o = sum(o[c, k] * delta(c, k) for c in values for k in values)
    d_e = sum(n_c[c] * n_c[k] * delta(c, k) for c in values for k in values) / (n - 1)
    return 1 - d_o / d_e


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda coders: st.lists(
            st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=coders, max_size=coders),
            min_size=1,
            max_size=10,
        )
    ),
    st.sampled_from(["nominal", "interval"]),
)
def test_krippendorff_alpha_matches_pairwise_definition(units: list, level: str) -> None:
    data = np.array([[np.nan if v is None else v for v in unit] for unit in units]).T
    pairable = (~np.isnan(data)).sum(axis=0) >= 2
    if not pairable.any():
        with pytest.raises(InvalidInputError, match="pairable"):
            krippendorff_alpha(data, level=level)  # type: ignore[arg-type]
        return
    if np.unique(data[:, pairable][~np.isnan(data[:, pairable])]).size < 2:
        assert math.isnan(krippendorff_alpha(data, level=level))  # type: ignore[arg-type]
        return
    assert krippendorff_alpha(data, level=level) == pytest.approx(  # type: ignore[arg-type]
        slow_alpha(data, level), abs=1e-10
    )


def test_krippendorff_alpha_refuses_bad_input() -> None:
    with pytest.raises(InvalidInputError, match="pairable"):
        krippendorff_alpha([[1, np.nan], [np.nan, 2]])
    with pytest.raises(InvalidInputError, match="level"):
        krippendorff_alpha([[1, 2], [1, 2]], level="cardinal")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="infinite"):
        krippendorff_alpha([[1, np.inf], [1, 2]])


# ---------------------------------------------------------------- per annotator, per class


def slow_annotator_agreement(rows: list[tuple[int, int, int]], n_annotators: int) -> list[float]:
    out = []
    for a in range(n_annotators):
        agree = total = 0
        for item, who, label in rows:
            if who != a:
                continue
            for item2, who2, label2 in rows:
                if item2 == item and who2 != a:
                    total += 1
                    agree += label2 == label
        out.append(agree / total if total else math.nan)
    return out


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=30
    )
)
def test_annotator_agreement_matches_pair_counting(rows: list[tuple[int, int, int]]) -> None:
    np.testing.assert_allclose(
        annotator_agreement(rows, 3, n_annotators=4), slow_annotator_agreement(rows, 4)
    )


def test_specific_agreement_counts_agreeing_pairs_per_class() -> None:
    # Item 0: labels 0, 0, 1; item 1: labels 1, 1; item 2: a single label 0 (no pair).
    rows = [(0, 0, 0), (0, 1, 0), (0, 2, 1), (1, 0, 1), (1, 1, 1), (2, 0, 0)]
    # Class 0: pairs (ordered) starting from a 0 -> 4, agreeing 2. Class 1: 2 + 2, agreeing 2.
    np.testing.assert_allclose(specific_agreement(rows, 3), [2 / 4, 2 / 4, np.nan])
