"""The dashboard's numbers: learning curve, class balance, agreement, gold accuracy, budget.

Agreement per annotator is each annotator's pairwise agreement with the others on shared samples
(Fleiss 1971's ``P_i`` restricted to pairs with that annotator), per class the proportion of
specific agreement (Uebersax 1982), and over the project Fleiss' kappa on the samples that
have the same number of answers as the overlap; all from :mod:`labelwise.quality`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labelwise.controller.settings import loop_settings
from labelwise.controller.weighting import gold_standing
from labelwise.quality import annotator_agreement, fleiss_counts, fleiss_kappa, specific_agreement
from labelwise.store import Store, get_project, list_rounds, status
from labelwise.store.annotator_stats import gold_answers, pool_votes

__all__ = ["CurvePoint", "ProjectReport", "project_report"]


@dataclass(frozen=True)
class CurvePoint:
    """One round on the learning curve."""

    round: int
    n_labeled: int
    eval_accuracy: float | None
    kappa: float | None


@dataclass(frozen=True)
class ProjectReport:
    """Everything the admin dashboard shows about a project."""

    project: str
    curve: list[CurvePoint]
    class_balance: dict[str, int]
    annotations_by_annotator: dict[str, int]
    agreement_by_annotator: dict[str, float | None]
    agreement_by_class: dict[str, float | None]
    fleiss_kappa: float | None
    gold: dict[str, dict[str, Any]]
    budget: int | None
    budget_used: int
    stop_reason: str | None
    by_state: dict[str, int] = field(default_factory=dict)


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def project_report(store: Store, project: str) -> ProjectReport:
    """Compute the dashboard of ``project`` from the store."""
    info = get_project(store, project)
    settings = loop_settings(info.settings)
    counts = status(store, project)
    rounds = list_rounds(store, project)
    curve = [
        CurvePoint(
            r.number,
            int(r.metrics.get("n_labeled", 0) or 0),
            r.metrics.get("eval_accuracy"),
            r.metrics.get("kappa"),
        )
        for r in rounds
    ]
    classes = list(info.label_space)
    votes = pool_votes(store, project)
    names = sorted({v.annotator for v in votes})
    agreement_by_annotator: dict[str, float | None] = dict.fromkeys(names)
    agreement_by_class: dict[str, float | None] = dict.fromkeys(classes)
    kappa: float | None = None
    if votes:
        items = {s: i for i, s in enumerate(sorted({v.sample_id for v in votes}))}
        table = np.array(
            [[items[v.sample_id], names.index(v.annotator), classes.index(v.value)] for v in votes]
        )
        by_annotator = annotator_agreement(table, len(classes), n_annotators=len(names))
        agreement_by_annotator = {n: _finite(a) for n, a in zip(names, by_annotator, strict=True)}
        by_class = specific_agreement(table, len(classes))
        agreement_by_class = {c: _finite(a) for c, a in zip(classes, by_class, strict=True)}
        per_item = np.bincount(table[:, 0])
        full = np.flatnonzero(per_item == info.overlap)
        if info.overlap > 1 and full.size:
            keep = np.isin(table[:, 0], full)
            remap = np.searchsorted(full, table[keep, 0])
            sub = np.column_stack([remap, table[keep, 1], table[keep, 2]])
            kappa = _finite(fleiss_kappa(fleiss_counts(sub, len(classes))))
    standing = gold_standing(gold_answers(store, project), len(classes), settings.gold_threshold)
    gold = {
        s.annotator: {
            "answered": s.answered,
            "correct": s.correct,
            "accuracy": s.accuracy,
            "weight": s.weight,
            "flagged": s.flagged,
        }
        for s in standing.values()
    }
    last = rounds[-1].metrics if rounds else {}
    return ProjectReport(
        project=project,
        curve=curve,
        class_balance=dict(counts.by_class),
        annotations_by_annotator=dict(counts.by_annotator),
        agreement_by_annotator=agreement_by_annotator,
        agreement_by_class=agreement_by_class,
        fleiss_kappa=kappa,
        gold=gold,
        budget=counts.budget,
        budget_used=counts.budget_used,
        stop_reason=last.get("stop_reason"),
        by_state=dict(counts.by_state),
    )
