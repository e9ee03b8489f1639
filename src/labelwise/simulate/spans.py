"""Learning curves of span F1 for sequence strategies, with ground truth as the oracle.

Protocol (the same for every strategy, paired by seed): each seed splits the corpus into a test
part (``test_fraction``) and a pool, draws ``initial`` pool sentences at random as the seed set,
then runs ``rounds`` rounds of the round engine (:class:`~labelwise.loop.RoundEngine` with the
tagger), each adding ``batch_size`` sentences with their gold tags. After every fit the model's
exact-match span F1 (micro, CoNLL's measure) on the test part is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from labelwise.errors import InvalidInputError
from labelwise.loop import RoundEngine
from labelwise.spans.agreement import span_f1
from labelwise.spans.document import Document
from labelwise.spans.inputs import SequenceModel
from labelwise.spans.selection import get_sequence_strategy
from labelwise.spans.tags import spans_to_tags, tags_to_spans

__all__ = ["SpanCurve", "curve_area", "simulate_spans", "test_span_f1"]


@dataclass(frozen=True)
class SpanCurve:
    """One strategy's learning curve for one seed: span F1 after each fit."""

    strategy: str
    seed: int
    n_labeled: tuple[int, ...]
    span_f1: tuple[float, ...]


def curve_area(curve: SpanCurve) -> float:
    """Normalized area under the curve: trapezoids over ``n_labeled``, divided by its range."""
    x, y = np.asarray(curve.n_labeled, float), np.asarray(curve.span_f1, float)
    if x.size < 2:
        return float(y[0]) if y.size else 0.0
    return float(np.sum((y[1:] + y[:-1]) / 2 * np.diff(x)) / (x[-1] - x[0]))


def test_span_f1(model: SequenceModel, documents: Sequence[Document]) -> float:
    """Exact span F1 of the model's best paths against the documents' gold spans."""
    paths, _ = model.best_path([d.words for d in documents])
    predicted = [tags_to_spans(d.tokens, tags) for d, tags in zip(documents, paths, strict=True)]
    return span_f1(predicted, [list(d.spans) for d in documents]).f1


test_span_f1.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def simulate_spans(
    documents: Sequence[Document],
    model_factory: Callable[[], SequenceModel],
    strategy: str = "mnlp",
    seeds: Sequence[int] = (0,),
    initial: int = 20,
    batch_size: int = 20,
    rounds: int = 10,
    test_fraction: float = 0.3,
    max_pool: int | None = None,
) -> list[SpanCurve]:
    """Run the protocol above for one strategy and each seed.

    Parameters
    ----------
    documents : the corpus, gold spans on token boundaries.
    model_factory : builds a fresh tagger per seed (``CRFTagger``).
    strategy : a name of :func:`~labelwise.spans.selection.get_sequence_strategy`.
    max_pool : cap on pool sentences (a random subset per seed), for quick runs.
    """
    if not 0 < test_fraction < 1:
        raise InvalidInputError(f"test_fraction must be in (0, 1), got {test_fraction}")
    tags = [spans_to_tags(d.tokens, d.spans) for d in documents]
    words = [d.words for d in documents]
    chooser = get_sequence_strategy(strategy)
    curves = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(documents))
        n_test = round(test_fraction * len(documents))
        test = [documents[i] for i in order[:n_test]]
        pool = order[n_test:] if max_pool is None else order[n_test : n_test + max_pool]
        if initial + rounds * batch_size > pool.size:
            raise InvalidInputError(
                f"{initial} + {rounds} x {batch_size} sentences exceed the pool of {pool.size}"
            )
        labeled = list(pool[:initial])
        unlabeled = list(pool[initial:])
        model = model_factory()
        engine = RoundEngine(model, chooser)
        sizes, scores = [], []
        for _ in range(rounds):
            result = engine.run_round(
                [words[i] for i in labeled],
                [tags[i] for i in labeled],
                [words[i] for i in unlabeled],
                batch_size,
                rng,
            )
            sizes.append(len(labeled))
            scores.append(test_span_f1(model, test))
            picked = set(result.indices.tolist())
            labeled += [unlabeled[j] for j in sorted(picked)]
            unlabeled = [i for j, i in enumerate(unlabeled) if j not in picked]
        model.fit([words[i] for i in labeled], [tags[i] for i in labeled])
        sizes.append(len(labeled))
        scores.append(test_span_f1(model, test))
        curves.append(SpanCurve(strategy, int(seed), tuple(sizes), tuple(scores)))
    return curves
