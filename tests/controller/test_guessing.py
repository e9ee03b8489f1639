"""model_guess: the model's answer for one sample in each answer kind, read by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from labelwise.controller.guessing import model_guess
from labelwise.store import SampleRecord

SAMPLE = SampleRecord(id=1, external_id="s1", text="x", uri=None, split="pool", state="queued")


class Features:
    name = "fixed"

    def __call__(self, samples: Sequence[SampleRecord]) -> np.ndarray:
        return np.zeros((len(samples), 2), dtype=np.float32)


class Fitted:
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return np.tile([0.2, 0.7, 0.1], (len(X), 1))

    def predict_label_proba(self, X: np.ndarray) -> np.ndarray:
        return np.tile([0.9, 0.3, 0.6], (len(X), 1))

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), 2.5)


def test_each_answer_kind_reads_its_own_prediction() -> None:
    classes = ["a", "b", "c"]
    label = model_guess(Fitted(), 4, "label", classes, Features(), SAMPLE)
    assert (label.label, label.probability, label.round) == ("b", 0.7, 4)
    chosen = model_guess(Fitted(), 4, "labels", classes, Features(), SAMPLE)
    assert json.loads(chosen.label) == ["a", "c"]
    assert chosen.probability == np.mean([0.9, 0.7, 0.6])
    number = model_guess(Fitted(), 4, "number", classes, Features(), SAMPLE)
    assert (number.label, number.probability) == ("2.5", None)
