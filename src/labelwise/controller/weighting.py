"""Annotators under the gold-accuracy threshold: flagged, and their votes down-weighted.

Each annotator's answers to gold questions give a :class:`labelwise.quality.GoldReport`;
:func:`labelwise.quality.gold_weights` turns it into vote weights (the log-odds of being right,
Nitzan & Paroush 1982), and flagged annotators (:func:`labelwise.quality.flag_annotators`) weigh
nothing while anyone else voted on the sample. Labels of samples with several answers are then
rewritten by that weighted majority through :func:`labelwise.store.reaggregate`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from labelwise.quality import GoldReport, flag_annotators, gold_weights
from labelwise.store import Store, Vote, get_project, reaggregate
from labelwise.store.annotator_stats import GoldAnswer, gold_answers

__all__ = ["GoldStanding", "gold_standing", "reweight_by_gold"]

#: Gold answers an annotator must give before they can be flagged.
MIN_GOLD_ANSWERS = 3


@dataclass(frozen=True)
class GoldStanding:
    """An annotator's record on gold questions."""

    annotator: str
    answered: int
    correct: int
    weight: float
    flagged: bool

    @property
    def accuracy(self) -> float | None:
        return None if self.answered == 0 else self.correct / self.answered


def gold_standing(
    answers: Sequence[GoldAnswer], n_classes: int, threshold: float
) -> dict[int, GoldStanding]:
    """Each gold-answering annotator's standing, by annotator id (an answer is correct when
    it passed: :func:`labelwise.store.answers.gold_credit`)."""
    ids = sorted({a.annotator_id for a in answers})
    names = {a.annotator_id: a.annotator for a in answers}
    answered = np.array([sum(a.annotator_id == i for a in answers) for i in ids], dtype=np.int64)
    correct = np.array(
        [sum(a.annotator_id == i and a.passed for a in answers) for i in ids],
        dtype=np.int64,
    )
    report = GoldReport(answered=answered, correct=correct)
    flagged = flag_annotators(report, threshold, min_answered=MIN_GOLD_ANSWERS)
    weights = gold_weights(report, max(n_classes, 2))
    return {
        i: GoldStanding(
            names[i], int(answered[k]), int(correct[k]), float(weights[k]), bool(flagged[k])
        )
        for k, i in enumerate(ids)
    }


def _weighted_majority(
    standing: Mapping[int, GoldStanding],
) -> object:
    def aggregate(votes: Sequence[Vote]) -> dict[int, tuple[str, float | None]]:
        by_sample: dict[int, list[Vote]] = defaultdict(list)
        for vote in votes:
            by_sample[vote.sample_id].append(vote)
        out: dict[int, tuple[str, float | None]] = {}
        for sample_id, group in by_sample.items():
            if len(group) < 2:
                continue
            totals: dict[str, float] = defaultdict(float)
            for vote in group:
                known = standing.get(vote.annotator_id)
                weight = 1.0 if known is None else (0.0 if known.flagged else known.weight)
                totals[vote.value] += weight + 1e-9  # ties: the first answer given
            winner = max(totals, key=lambda value: totals[value])
            out[sample_id] = (winner, totals[winner] / sum(totals.values()))
        return out

    return aggregate


def reweight_by_gold(
    store: Store, project: str, threshold: float, *, actor: str = "labelwise"
) -> dict[int, GoldStanding]:
    """Relabel multi-answer samples by gold-weighted majority when someone is flagged."""
    info = get_project(store, project)
    answers = gold_answers(store, project)
    if not answers:
        return {}
    standing = gold_standing(answers, len(info.label_space), threshold)
    if info.overlap > 1 and any(s.flagged for s in standing.values()):
        reaggregate(store, project, _weighted_majority(standing), "gold_weighted", actor=actor)  # type: ignore[arg-type]
    return standing
