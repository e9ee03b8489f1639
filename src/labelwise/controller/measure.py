"""What a round measures with its fitted model (step 4 of :meth:`Controller.run_round`).

A classification project: accuracy on the eval split, the predictions on a fixed stop set (a
random subset of the pool, Bloodgood & Vijay-Shanker 2009) and its largest least-confidence
uncertainty; kappas between rounds' stop-set predictions come from :func:`round_kappas`. Other
answer kinds: their eval metric (R2, micro-F1 or span F1); the stop set compares predicted
classes, which they have none of.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labelwise.controller.features import FeatureSource
from labelwise.controller.models import span_sequences, task_targets
from labelwise.controller.settings import LoopSettings
from labelwise.controller.stopping import prediction_kappa
from labelwise.store import SampleRecord, Store, labeled_set
from labelwise.store.samples import SampleSnapshot

__all__ = ["RoundMeasurer", "RoundMeasures", "round_kappas", "suggest_for"]


@dataclass(frozen=True)
class RoundMeasures:
    """One round's measurements; None where the project's kind or data has none."""

    eval_accuracy: float | None = None
    #: A non-classification project's eval metric: ``eval_metric`` and ``eval_<metric>``.
    task_eval: dict[str, Any] = field(default_factory=dict)
    #: Predicted class indices on the stop set (classification only).
    stop_predictions: list[int] | None = None
    max_uncertainty: float | None = None


class RoundMeasurer:
    """Measures a project's fitted models; keeps the stop set, drawn once from the seed.

    Parameters
    ----------
    store, project : the store and the project's name
    kind : the project's answer kind (``label``, ``number``, ``labels`` or ``spans``)
    classes : the label space (classes for ``label``, labels for ``labels``)
    chunk_size : samples featurised and predicted at once
    """

    def __init__(
        self, store: Store, project: str, kind: str, classes: list[str], chunk_size: int
    ) -> None:
        self.store = store
        self.project = project
        self.kind = kind
        self.classes = classes
        self.chunk_size = chunk_size
        self._stop_set: list[SampleRecord] | None = None

    def measure(
        self, model: Any, features: FeatureSource, pool: SampleSnapshot, settings: LoopSettings
    ) -> RoundMeasures:
        """Measure ``model`` (None before any fit: nothing to measure)."""
        if model is None:
            return RoundMeasures()
        if self.kind != "label":
            return RoundMeasures(task_eval=self._eval_task(model, features))
        stop_proba = self._stop_proba(model, features, pool, settings)
        max_unc = float(1 - stop_proba.max(axis=1).min()) if len(stop_proba) else None
        return RoundMeasures(
            eval_accuracy=self._eval_accuracy(model, features),
            stop_predictions=[int(i) for i in stop_proba.argmax(axis=1)],
            max_uncertainty=max_unc,
        )

    def _eval_accuracy(self, model: Any, features: FeatureSource) -> float | None:
        evaluated = labeled_set(self.store, self.project, split="eval")
        if not evaluated:
            return None
        proba = self._proba(model, features, [sample for sample, _ in evaluated])
        predicted = np.asarray(self.classes, dtype=object)[proba.argmax(axis=1)]
        truth = np.asarray([label for _, label in evaluated], dtype=object)
        return float(np.mean(predicted == truth))

    def _eval_task(self, model: Any, features: FeatureSource) -> dict[str, Any]:
        """A regression, multi-label or spans project's eval metric: R2 of the numbers
        (``eval_r2``), micro-F1 of the label sets (``eval_micro_f1``) or span F1
        (``eval_span_f1``); None without eval labels."""
        metric = {"number": "r2", "spans": "span_f1"}.get(self.kind, "micro_f1")
        found: dict[str, Any] = {
            "eval_metric": metric,
            f"eval_{metric}": None,
            "stop_set_skipped": f"the stop-set test compares predicted classes; a "
            f"{self.kind!r} project has none (stop by budget or target, or by hand)",
        }
        evaluated = labeled_set(self.store, self.project, split="eval")
        if not evaluated:
            return found
        samples = [sample for sample, _ in evaluated]
        if self.kind == "spans":
            from labelwise.spans.agreement import span_f1
            from labelwise.store.answers import decode_spans

            predicted_spans = [[s.span for s in doc] for doc in suggest_for(model, samples)]
            truth_spans = [decode_spans(label) for _, label in evaluated]
            found["eval_span_f1"] = span_f1(predicted_spans, truth_spans).f1
            return found
        truth = task_targets(self.kind, [label for _, label in evaluated], self.classes)
        predicted = np.concatenate(
            [
                np.asarray(model.predict(features(samples[start : start + self.chunk_size])))
                for start in range(0, len(samples), self.chunk_size)
            ]
        )
        if self.kind == "number":
            from labelwise.simulate.regression import regression_metrics

            found["eval_r2"] = regression_metrics(truth, predicted)["r2"]
        else:
            from labelwise.simulate.multilabel import multilabel_metrics

            found["eval_micro_f1"] = multilabel_metrics(truth, predicted)["micro_f1"]
        return found

    def _proba(
        self, model: Any, features: FeatureSource, samples: Sequence[SampleRecord]
    ) -> NDArray[np.float64]:
        out = np.empty((len(samples), len(self.classes)), dtype=np.float64)
        for start in range(0, len(samples), self.chunk_size):
            chunk = samples[start : start + self.chunk_size]
            out[start : start + len(chunk)] = model.predict_proba(features(chunk))
        return out

    def _stop_proba(
        self, model: Any, features: FeatureSource, pool: SampleSnapshot, settings: LoopSettings
    ) -> NDArray[np.float64]:
        """Probabilities on the stop set, drawn once per measurer from the project's seed."""
        if not self._stop_set:
            picks = np.random.default_rng(settings.seed).permutation(len(pool))
            self._stop_set = pool.records(np.sort(picks[: settings.stop_set_size]))
        return self._proba(model, features, self._stop_set)


def round_kappas(
    previous: Mapping[str, Any], predictions: list[int] | None, new_labels: bool
) -> list[float]:
    """Between-round kappas so far (from the previous round's metrics), this round's last; a
    round without new labels adds none (a rerun on the same labels says nothing about
    stabilising predictions)."""
    kappas = [float(k) for k in previous.get("kappas") or []]
    before: Sequence[int] = previous.get("stop_predictions") or ()
    if new_labels and predictions is not None and 0 < len(before) == len(predictions):
        kappas.append(prediction_kappa(before, predictions))
    return kappas


def suggest_for(model: Any, samples: Sequence[SampleRecord]) -> list[list[Any]]:
    """A tagger's spans with scores for each sample's text
    (:func:`~labelwise.spans.suggest_spans`)."""
    from labelwise.spans import Document, suggest_spans

    tokens, _ = span_sequences([sample.text for sample in samples])
    documents = [
        Document(sample.text or "", tuple(toks))
        for sample, toks in zip(samples, tokens, strict=True)
    ]
    return suggest_spans(model, documents)
