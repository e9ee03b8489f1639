"""Review of disagreements, the data browser, the model's standing, the overview, the import."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np

from labelwise.store import add_annotator, labeled_set, list_samples
from labelwise.store.annotator_stats import pool_votes
from labelwise.store.members import add_member
from tests.server.conftest import Served, bearer, write_project_csv

REVIEW = "/api/review/projects/reviews"


def _answer(served: Served, who: dict[str, str], label: str) -> dict[str, object]:
    task = served.client.post("/api/projects/reviews/next", headers=who).json()["task"]
    assert task is not None
    url = f"/api/tasks/{task['task_id']}/annotation"
    assert served.client.post(url, headers=who, json={"label": label}).status_code == 201
    return dict(task)


def _overlap_two(served: Served) -> None:
    url = "/api/admin/projects/reviews/settings"
    assert served.client.patch(url, headers=served.admin, json={"overlap": 2}).status_code == 200
    assert served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin).is_success


def _reviewer(served: Served) -> dict[str, str]:
    add_annotator(served.store, "rita", "reviewer", "rita-token")
    add_member(served.store, "reviews", "rita")
    return bearer("rita-token")


def test_a_reviewer_resolves_a_disagreement_and_the_label_records_review(served: Served) -> None:
    _overlap_two(served)
    first = _answer(served, served.alice, "pos")
    second = _answer(served, served.bob, "neg")
    assert first["external_id"] == second["external_id"]  # both slots of the top sample
    rita = _reviewer(served)
    (item,) = served.client.get(f"{REVIEW}/disagreements", headers=rita).json()
    assert item["external_id"] == first["external_id"]
    assert [(a["annotator"], a["label"]) for a in item["answers"]] == [
        ("alice", "pos"),
        ("bob", "neg"),
    ]
    assert item["guess"] is None or item["guess"]["label"] in ("neg", "pos")
    url = f"{REVIEW}/samples/{item['sample_id']}/resolution"
    done = served.client.post(url, headers=rita, json={"label": "neg"})
    assert done.status_code == 200, done.text
    assert (done.json()["label"], done.json()["method"], done.json()["agreement"]) == (
        "neg",
        "review",
        0.5,
    )
    assert served.client.get(f"{REVIEW}/disagreements", headers=rita).json() == []
    every = served.client.get(f"{REVIEW}/disagreements?open_only=false", headers=rita).json()
    assert [i["method"] for i in every] == ["review"]
    labels = dict((s.external_id, v) for s, v in labeled_set(served.store, "reviews"))
    assert labels[first["external_id"]] == "neg"


def test_resolution_refuses_annotators_foreign_labels_and_gold(served: Served) -> None:
    _overlap_two(served)
    task = _answer(served, served.alice, "pos")
    _answer(served, served.bob, "neg")
    rita = _reviewer(served)
    (item,) = served.client.get(f"{REVIEW}/disagreements", headers=rita).json()
    url = f"{REVIEW}/samples/{item['sample_id']}/resolution"
    assert served.client.post(url, headers=served.alice, json={"label": "neg"}).status_code == 403
    wrong = served.client.post(url, headers=rita, json={"label": "meh"})
    assert wrong.status_code == 422 and "label space (neg, pos)" in wrong.json()["detail"]
    gold = next(s for s in list_samples(served.store, "reviews") if s.split == "gold")
    refused = served.client.post(
        f"{REVIEW}/samples/{gold.id}/resolution", headers=rita, json={"label": "neg"}
    )
    assert refused.status_code == 409 and "gold question" in refused.json()["detail"]
    missing = served.client.post(
        f"{REVIEW}/samples/{2**40}/resolution", headers=rita, json={"label": "neg"}
    )
    assert missing.status_code == 404
    assert task["external_id"] == item["external_id"]


def _reference(served: Served, **filters: str | None) -> list[str]:
    """The browser's filters, literally, over every sample, vote and label."""
    votes = pool_votes(served.store, "reviews")
    labels = {
        s.id: v
        for split in ("pool", "eval", "gold")
        for s, v in labeled_set(served.store, "reviews", split=split)  # type: ignore[arg-type]
    }
    kept = []
    for s in list_samples(served.store, "reviews"):
        if filters["split"] and s.split != filters["split"]:
            continue
        if filters["state"] and s.state != filters["state"]:
            continue
        if filters["label"] and labels.get(s.id) != filters["label"]:
            continue
        who = filters["annotator"]
        if who and not any(v.sample_id == s.id and v.annotator == who for v in votes):
            continue
        q = filters["q"]
        if q and q.lower() not in (s.text or "").lower() and q.lower() not in s.external_id:
            continue
        kept.append(s.external_id)
    return kept


def test_the_data_browser_filters_as_a_literal_reference_does(served: Served) -> None:
    rng = np.random.default_rng(7)
    for _ in range(8):
        who = served.alice if rng.random() < 0.6 else served.bob
        _answer(served, who, str(rng.choice(["neg", "pos"])))
    options = {
        "split": [None, "pool"],
        "state": [None, "labeled", "queued"],
        "label": [None, "pos"],
        "annotator": [None, "alice", "bob"],
        "q": [None, "GOOD"],
    }
    for values in itertools.product(*options.values()):
        filters = dict(zip(options, values, strict=True))
        query = {k: v for k, v in filters.items() if v is not None}
        page = served.client.get(
            f"{REVIEW}/samples", headers=served.admin, params={**query, "limit": 500}
        ).json()
        expected = _reference(served, **filters)
        assert [s["external_id"] for s in page["samples"]] == expected, filters
        assert page["total"] == len(expected)
    two = served.client.get(f"{REVIEW}/samples?limit=2&offset=3", headers=served.admin).json()
    assert [s["external_id"] for s in two["samples"]] == [
        s.external_id for s in list_samples(served.store, "reviews")
    ][3:5]
    assert served.client.get(f"{REVIEW}/samples", headers=served.alice).status_code == 403
    bad = served.client.get(f"{REVIEW}/samples?state=lost", headers=served.admin)
    assert bad.status_code == 422


def test_the_model_status_says_which_round_and_how_long_ago(served: Served) -> None:
    url = "/api/projects/reviews/model"
    before = served.client.get(url, headers=served.alice).json()
    assert before["show_suggestion"] is True and before["retrain_every"] >= 1
    for label in ("neg", "pos", "neg", "pos"):
        _answer(served, served.alice, label)
    served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    after = served.client.get(url, headers=served.alice).json()
    assert after["round"] is not None and after["round"] >= 2
    assert 0 <= after["seconds_ago"] < 60 and after["trained_at"].endswith("Z")
    assert served.client.get(url, headers=served.outsider).status_code == 404
    change = served.client.patch(
        "/api/admin/projects/reviews/settings",
        headers=served.admin,
        json={"show_suggestion": False},
    )
    assert change.status_code == 200 and change.json()["show_suggestion"] is False
    assert served.client.get(url, headers=served.alice).json()["show_suggestion"] is False
    null = served.client.patch(
        "/api/admin/projects/reviews/settings", headers=served.admin, json={"show_suggestion": None}
    )
    assert null.status_code == 422


def test_the_overview_and_class_balance_count_annotated_labels_only(served: Served) -> None:
    for label in ("neg", "pos", "pos"):
        _answer(served, served.alice, label)
    served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)
    base = "/api/admin/projects/reviews"
    board = served.client.get(f"{base}/dashboard", headers=served.admin).json()
    assert board["class_balance"] == {"neg": 1, "pos": 2}  # the 10 eval labels left out
    overview = served.client.get(f"{base}/overview", headers=served.admin).json()
    assert overview["labels"] == 3 and overview["annotations"] == 3
    names = [c["name"] for c in overview["criteria"]]
    assert names == ["budget", "target accuracy", "stabilising predictions", "max uncertainty"]
    assert overview["sentence"] and "." in overview["sentence"]
    assert served.client.get(f"{base}/overview", headers=served.alice).status_code == 403


def test_the_import_form_takes_a_label_space_and_names_the_file_in_errors(
    served: Served, tmp_path: Path
) -> None:
    text = b"id,text\na,hello there\nb,goodbye now\n"
    url = "/api/admin/projects/chat/import"
    files = {"file": ("chat.csv", io.BytesIO(text), "text/csv")}
    refused = served.client.post(url, headers=served.admin, files=files)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert detail.startswith("chat.csv: ") and "label space field" in detail
    assert "--labels" not in detail and "upload" not in detail and "/tmp" not in detail
    files = {"file": ("chat.csv", io.BytesIO(text), "text/csv")}
    done = served.client.post(url, headers=served.admin, files=files, data={"labels": "spam, ham"})
    assert done.status_code == 200 and done.json()["inserted"] == 2
    projects = served.client.get("/api/projects", headers=served.admin).json()
    assert next(p for p in projects if p["name"] == "chat")["labels"] == ["spam", "ham"]
    files = {"file": ("more.csv", io.BytesIO(text), "text/csv")}
    one = served.client.post(url, headers=served.admin, files=files, data={"labels": "spam"})
    assert one.status_code == 422 and "at least 2 labels" in one.json()["detail"]
    bad = write_project_csv(tmp_path / "bad.csv").read_bytes().replace(b"split", b"splat", 1)
    files = {"file": ("bad.csv", io.BytesIO(bad), "text/csv")}
    odd = served.client.post(url, headers=served.admin, files=files)
    assert odd.status_code == 422 and "/tmp" not in odd.json()["detail"]


def test_the_stopping_guidance_reads_the_rounds_as_a_literal_reading_does() -> None:
    from types import SimpleNamespace

    from labelwise.server.overview import accuracy_trend, criteria, guidance

    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 7))
        labels = np.cumsum(rng.integers(1, 20, n)).tolist()
        accuracy = rng.uniform(0.3, 0.9, n).round(3).tolist()
        kappas = rng.uniform(0.8, 1.0, n).round(3).tolist()
        predictions = [rng.integers(0, 2, 10).tolist() for _ in range(n)]
        rounds = [
            {
                "n_labeled": labels[i],
                "eval_accuracy": accuracy[i],
                "kappas": kappas[: i + 1],
                "stop_predictions": predictions[i],
                "max_uncertainty": 0.3,
            }
            for i in range(n)
        ]
        settings = SimpleNamespace(
            target_accuracy=0.8, stop_kappa=0.9, stop_window=3, max_uncertainty=0.35
        )
        trend = accuracy_trend(rounds)
        window = list(range(n))[-3:]
        a, b = window[0], window[-1]
        assert trend.accuracy == accuracy[-1]
        assert trend.labels == labels[b] - labels[a]
        assert np.isclose(trend.per_label, (accuracy[b] - accuracy[a]) / (labels[b] - labels[a]))
        found = {c.name: c for c in criteria(rounds, settings, 500, labels[-1])}
        mean = np.mean(kappas[-3:]) if n >= 3 else None
        stable = found["stabilising predictions"]
        assert (stable.current is None) == (mean is None)
        assert mean is None or np.isclose(stable.current, mean)
        assert stable.met == (mean is not None and mean >= 0.9)
        changed = np.mean(np.array(predictions[-1]) != np.array(predictions[-2]))
        assert f"changed on {100 * changed:.1f}% of the stop set" in stable.text
        assert found["target accuracy"].met == (accuracy[-1] >= 0.8)
        assert found["max uncertainty"].met  # 0.3 < 0.35
        assert not found["budget"].met
        sentence = guidance(trend, list(found.values()), 500, labels[-1], None)
        gain = min(max(0.0, trend.per_label) * (500 - labels[-1]), 1 - accuracy[-1])
        if gain >= 0.005:
            assert f"about {100 * gain:.1f} points" in sentence
        else:
            assert "under 0.5 points" in sentence
    stopped = guidance(accuracy_trend([]), [], None, 0, "budget spent")
    assert stopped == "The loop has stopped: budget spent."
