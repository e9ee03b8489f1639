"""BALD, variation ratios, mean std and max entropy against literal loops and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelwise.errors import InvalidInputError
from labelwise.strategies import (
    PoolInputs,
    bald,
    expected_entropy,
    get_strategy,
    max_entropy,
    mean_std,
    variation_ratios,
)
from labelwise.strategies import bayesian as bayesian_module


@st.composite
def sample_arrays(draw: st.DrawFn) -> np.ndarray:
    k = draw(st.integers(1, 6))
    n = draw(st.integers(1, 8))
    c = draw(st.integers(2, 5))
    raw = draw(arrays(np.float64, (k, n, c), elements=st.floats(0.0, 1.0, allow_subnormal=False)))
    raw[..., 0] += 1e-9  # no all-zero row
    return raw / raw.sum(axis=-1, keepdims=True)


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def random_samples(k: int, n: int, c: int, seed: int = 0, scale: float = 2.0) -> np.ndarray:
    return softmax(np.random.default_rng(seed).normal(size=(k, n, c)) * scale)


def ref_entropy(row: list[float]) -> float:
    return -sum(p * math.log(p) for p in row if p > 0)


def ref_mean(samples: np.ndarray, n: int) -> list[float]:
    k, _, c = samples.shape
    return [sum(samples[j, n, cls] for j in range(k)) / k for cls in range(c)]


def ref_bald(samples: np.ndarray) -> list[float]:
    k, n_items, _ = samples.shape
    out = []
    for n in range(n_items):
        mean_h = sum(ref_entropy(samples[j, n].tolist()) for j in range(k)) / k
        out.append(ref_entropy(ref_mean(samples, n)) - mean_h)
    return out


def ref_variation_ratio(samples: np.ndarray) -> list[float]:
    k, n_items, _ = samples.shape
    out = []
    for n in range(n_items):
        votes: dict[int, int] = {}
        for j in range(k):
            label = int(np.argmax(samples[j, n]))
            votes[label] = votes.get(label, 0) + 1
        out.append(1 - max(votes.values()) / k)
    return out


def ref_mean_std(samples: np.ndarray) -> list[float]:
    k, n_items, c = samples.shape
    out = []
    for n in range(n_items):
        stds = []
        for cls in range(c):
            values = [samples[j, n, cls] for j in range(k)]
            mu = sum(values) / k
            stds.append(math.sqrt(sum((v - mu) ** 2 for v in values) / k))
        out.append(sum(stds) / c)
    return out


@settings(max_examples=150, deadline=None)
@given(sample_arrays())
def test_scores_match_literal_reference(samples: np.ndarray) -> None:
    n = samples.shape[1]
    expected_bald = ref_bald(samples)
    np.testing.assert_allclose(bald(samples), np.maximum(expected_bald, 0), atol=1e-12)
    np.testing.assert_allclose(
        max_entropy(samples), [ref_entropy(ref_mean(samples, i)) for i in range(n)], atol=1e-12
    )
    np.testing.assert_allclose(
        bald(samples), max_entropy(samples) - expected_entropy(samples), atol=1e-12
    )
    np.testing.assert_allclose(variation_ratios(samples), ref_variation_ratio(samples))
    np.testing.assert_allclose(mean_std(samples), ref_mean_std(samples), atol=1e-7)


@settings(max_examples=100, deadline=None)
@given(sample_arrays())
def test_bald_lies_between_zero_and_the_predictive_entropy(samples: np.ndarray) -> None:
    scores = bald(samples)
    assert (scores >= 0).all()
    assert (scores <= max_entropy(samples) + 1e-12).all()


def test_bald_is_zero_when_all_samples_agree() -> None:
    one = random_samples(1, 30, 4)
    agreeing = np.repeat(one, 7, axis=0)
    np.testing.assert_allclose(bald(agreeing), 0.0, atol=1e-12)
    np.testing.assert_allclose(variation_ratios(agreeing), 0.0)
    np.testing.assert_allclose(mean_std(agreeing), 0.0, atol=1e-12)


@pytest.mark.parametrize("c", [2, 5])
def test_bald_of_two_confident_samples_disagreeing_on_two_classes_is_log_two(c: int) -> None:
    samples = np.zeros((2, 1, c))
    samples[0, 0, 0] = samples[1, 0, 1] = 1.0
    assert bald(samples)[0] == pytest.approx(math.log(2))
    assert max_entropy(samples)[0] == pytest.approx(math.log(2))
    assert variation_ratios(samples)[0] == pytest.approx(0.5)
    assert mean_std(samples)[0] == pytest.approx(2 * 0.5 / c)


def test_bald_of_k_confident_samples_each_on_its_own_class_is_log_k() -> None:
    samples = np.eye(6)[:, None, :]  # (K=6, N=1, C=6)
    assert bald(samples)[0] == pytest.approx(math.log(6))


def test_float32_samples_stay_close_to_float64_and_give_float64_scores() -> None:
    s64 = random_samples(10, 500, 7)
    s32 = s64.astype(np.float32)
    for fn in (bald, max_entropy, expected_entropy, mean_std, variation_ratios):
        assert fn(s32).dtype == np.float64
        np.testing.assert_allclose(fn(s32), fn(s64), atol=2e-5)


def test_many_chunks_and_threads_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = random_samples(5, 1000, 3).astype(np.float32)
    whole = {fn: fn(samples) for fn in (bald, max_entropy, mean_std, variation_ratios)}
    monkeypatch.setattr(bayesian_module, "CHUNK_BYTES", 5 * 3 * 4 * 7)  # 7 items a chunk
    monkeypatch.setattr(bayesian_module, "MIN_VALUES_FOR_THREADS", 0)
    for fn, expected in whole.items():
        np.testing.assert_allclose(fn(samples), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(bald(samples, n_jobs=3), whole[bald], rtol=1e-6, atol=1e-7)


def test_strided_and_memmap_samples(tmp_path: object) -> None:
    samples = random_samples(4, 50, 3)
    path = f"{tmp_path}/samples.npy"
    np.save(path, samples)
    mapped = np.load(path, mmap_mode="r")
    np.testing.assert_allclose(bald(mapped), bald(samples))
    wide = random_samples(4, 100, 3)
    np.testing.assert_allclose(bald(wide[:, ::2]), bald(np.ascontiguousarray(wide[:, ::2])))


def test_a_bad_value_in_a_late_chunk_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bayesian_module, "CHUNK_BYTES", 4 * 3 * 8 * 10)
    samples = random_samples(4, 200, 3)
    samples[2, 187, 1] = np.nan
    for fn in (bald, max_entropy, mean_std, variation_ratios):
        with pytest.raises(InvalidInputError, match="NaN"):
            fn(samples)


@pytest.mark.parametrize("fn", [bald, max_entropy, mean_std, variation_ratios, expected_entropy])
def test_bad_samples_are_refused(fn) -> None:  # type: ignore[no-untyped-def]
    good = random_samples(3, 4, 2)
    with pytest.raises(InvalidInputError, match="sum to 1"):
        fn(good * 1.5)
    negative = good.copy()
    negative[0, 0] = [-0.5, 1.5]
    with pytest.raises(InvalidInputError, match="logits"):
        fn(negative)
    with pytest.raises(InvalidInputError, match="3-dimensional"):
        fn(good[0])
    with pytest.raises(InvalidInputError, match="at least one sample"):
        fn(good[:0])
    with pytest.raises(InvalidInputError, match="at least 2 classes"):
        fn(np.ones((3, 4, 1)))


def test_integer_one_hot_samples_are_accepted() -> None:
    samples = np.zeros((2, 1, 3), dtype=np.int64)
    samples[0, 0, 0] = samples[1, 0, 2] = 1
    assert bald(samples)[0] == pytest.approx(math.log(2))


@pytest.mark.parametrize("name", ["bald", "variation_ratios", "mean_std", "max_entropy"])
def test_strategies_pick_the_top_scores(name: str) -> None:
    samples = random_samples(8, 40, 4, seed=3)
    fn = {"bald": bald, "variation_ratios": variation_ratios, "mean_std": mean_std}.get(
        name, max_entropy
    )
    strategy = get_strategy(name)
    assert strategy.needs == {"samples"}
    selection = strategy.select(PoolInputs(samples=samples), 5, rng=0)
    scores = fn(samples)
    order = np.lexsort((np.arange(40), -scores))
    np.testing.assert_array_equal(selection.indices, order[:5])
    np.testing.assert_allclose(selection.scores, scores[order[:5]])
