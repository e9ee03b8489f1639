from __future__ import annotations

from labelwise.quality.acceptance import Acceptance, acceptance_by, rubber_stamping


def test_acceptance_counts_per_annotator_and_per_suggested_class() -> None:
    rows = [("ada", "pos", "pos"), ("ada", "neg", "pos"), ("bo", "pos", "pos")]
    assert acceptance_by(rows, "annotator") == [Acceptance("ada", 2, 1), Acceptance("bo", 1, 1)]
    assert acceptance_by(rows, "suggestion") == [Acceptance("pos", 2, 2), Acceptance("neg", 1, 0)]
    assert Acceptance("x", 0, 0).rate == 0.0


def test_rubber_stamping_needs_enough_answers_and_a_gap_over_the_models_accuracy() -> None:
    assert rubber_stamping(Acceptance("ada", 20, 20), 0.7)
    assert not rubber_stamping(Acceptance("ada", 20, 17), 0.75)  # 0.85: within the margin
    assert not rubber_stamping(Acceptance("ada", 5, 5), 0.5)  # too few to say
    assert not rubber_stamping(Acceptance("ada", 20, 20), None)  # no eval accuracy yet
