"""The PyTorch token classifier: learns, gives marginals and reproducible MC-Dropout samples."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.errors import NotFittedError

pytest.importorskip("torch")
pytestmark = pytest.mark.slow  # importing torch and training take 10-30 s on this machine

from labelwise.loop import RoundEngine  # noqa: E402
from labelwise.spans.selection import get_sequence_strategy  # noqa: E402
from labelwise.spans.strategies import independent_path_log_proba  # noqa: E402
from labelwise.spans.torch_tagger import TorchTagger  # noqa: E402

NAMES = ["Ann", "Bob", "Carla", "Dieter", "Eve", "Farid"]
WORDS = ["saw", "met", "the", "a", "dog", "today", "and", "cat"]


def toy(n: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for _ in range(n):
        words = [str(rng.choice(NAMES if rng.random() < 0.3 else WORDS)) for _ in range(6)]
        xs.append(words)
        ys.append(["B-PER" if w in NAMES else "O" for w in words])
    return xs, ys


@pytest.fixture(scope="module")
def tagger() -> TorchTagger:
    x, y = toy(40, 0)
    return TorchTagger(n_buckets=2**10, dim=16, hidden=16, epochs=15).fit(x, y)


def test_it_learns_a_simple_rule(tagger: TorchTagger) -> None:
    x, y = toy(20, 1)
    predicted = tagger.predict(x)
    accuracy = np.mean(
        [p == t for ps, ts in zip(predicted, y, strict=True) for p, t in zip(ps, ts, strict=True)]
    )
    assert accuracy > 0.95


def test_marginals_and_best_path_agree(tagger: TorchTagger) -> None:
    x, _ = toy(5, 2)
    x[1] = []
    marginals = tagger.marginals(x)
    assert [m.shape for m in marginals] == [(len(w), 2) for w in x]
    np.testing.assert_allclose(marginals[0].sum(axis=1), 1.0, atol=1e-6)
    paths, proba = tagger.best_path(x)
    np.testing.assert_allclose(np.log(proba), independent_path_log_proba(marginals), atol=1e-9)
    assert paths[0] == [tagger.labels_[k] for k in marginals[0].argmax(axis=1)]


def test_mc_dropout_samples_vary_and_repeat_for_a_seed(tagger: TorchTagger) -> None:
    x, _ = toy(4, 3)
    a = tagger.sample_marginals(x, n_samples=5, seed=1)
    b = tagger.sample_marginals(x, n_samples=5, seed=1)
    assert a[0].shape == (5, 6, 2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.allclose(a[0][0], a[0][1])  # dropout is on
    np.testing.assert_array_equal(tagger.marginals(x)[0], tagger.marginals(x)[0])  # and off again


def test_sequence_bald_runs_through_the_round() -> None:
    x, y = toy(30, 4)
    model = TorchTagger(n_buckets=2**10, dim=8, hidden=8, epochs=3)
    engine = RoundEngine(model, get_sequence_strategy("sequence_bald"), n_samples=4)
    result = engine.run_round(x[:10], y[:10], x[10:], 4, rng=0)
    assert not result.cold and len(set(result.indices.tolist())) == 4
    assert np.all(result.scores >= 0)


def test_unfitted_tagger_is_refused() -> None:
    with pytest.raises(NotFittedError, match="fit the TorchTagger"):
        TorchTagger().marginals([["a"]])
