"""The data browser: why each sample was chosen, and the filtered set exported."""

from __future__ import annotations

import csv
import io
import json

from labelwise.store import list_rounds, why_chosen
from tests.server.conftest import Served

SAMPLES = "/api/review/projects/reviews/samples"


def _label_and_retrain(served: Served) -> None:
    for _ in range(6):
        task = served.client.post("/api/projects/reviews/next", headers=served.alice).json()
        task = task["task"]
        label = "pos" if int(task["external_id"][1:]) % 2 else "neg"
        url = f"/api/tasks/{task['task_id']}/annotation"
        assert served.client.post(url, headers=served.alice, json={"label": label}).is_success
    assert served.client.post("/api/admin/projects/reviews/rounds", headers=served.admin)


def test_each_sample_says_why_it_was_chosen(served: Served) -> None:
    _label_and_retrain(served)
    page = served.client.get(f"{SAMPLES}?split=pool&limit=500", headers=served.admin).json()
    rounds = {r.number: r for r in list_rounds(served.store, "reviews")}
    queued = [s for s in page["samples"] if s["why"] is not None]
    assert queued and all(s["state"] != "unlabeled" for s in queued)
    for sample in page["samples"]:
        why = sample["why"]
        if why is None:
            continue
        scored = {
            r.round_number: r.score
            for r in why_chosen(served.store, "reviews", sample["external_id"])
        }
        assert why["strategy"] == rounds[why["round"]].strategy
        assert why["model_version"] == rounds[why["round"]].model_version
        assert why["score"] == scored.get(why["round"])  # None: the round scored nothing
    second = served.client.get(f"{SAMPLES}?round=2&limit=500", headers=served.admin).json()
    assert second["total"] > 0 and {s["why"]["round"] for s in second["samples"]} == {2}
    scores = sorted(s["why"]["score"] for s in second["samples"])
    cut = scores[len(scores) // 2]
    high = served.client.get(f"{SAMPLES}?round=2&min_score={cut}&limit=500", headers=served.admin)
    assert {s["sample_id"] for s in high.json()["samples"]} == {
        s["sample_id"] for s in second["samples"] if s["why"]["score"] >= cut
    }


def test_the_export_holds_the_filtered_set_as_csv_and_jsonl(served: Served) -> None:
    _label_and_retrain(served)
    query = "split=pool&state=labeled&annotator=alice"
    page = served.client.get(f"{SAMPLES}?{query}&limit=500", headers=served.admin).json()
    assert page["total"] == 6
    ids = [s["sample_id"] for s in page["samples"]]

    as_csv = served.client.get(f"{SAMPLES}/export?{query}&format=csv", headers=served.admin)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [int(r["sample_id"]) for r in rows] == ids
    shown = {s["sample_id"]: s for s in page["samples"]}
    for row in rows:
        sample = shown[int(row["sample_id"])]
        assert row["label"] == sample["label"] and row["answers"] == f"alice:{sample['label']}"
        assert row["strategy"] == sample["why"]["strategy"]

    as_jsonl = served.client.get(f"{SAMPLES}/export?{query}&format=jsonl", headers=served.admin)
    lines = [json.loads(line) for line in as_jsonl.text.splitlines()]
    assert [r["sample_id"] for r in lines] == ids
    assert lines[0]["answers"] == [{"annotator": "alice", "label": shown[ids[0]]["label"]}]
    assert lines[0]["round"] == shown[ids[0]]["why"]["round"]

    everything = served.client.get(f"{SAMPLES}/export?format=jsonl", headers=served.admin)
    assert len(everything.text.splitlines()) == 54  # 40 pool, 10 eval, 4 gold


def test_the_export_refuses_bad_filters_and_strangers(served: Served) -> None:
    bad = served.client.get(f"{SAMPLES}/export?format=xml", headers=served.admin)
    assert bad.status_code == 422
    assert (
        served.client.get(f"{SAMPLES}/export?split=nope", headers=served.admin).status_code == 422
    )
    assert served.client.get(f"{SAMPLES}/export", headers=served.alice).status_code == 403
    assert (
        served.client.get(f"{SAMPLES}/export?min_score=nan", headers=served.admin).status_code
        == 422
    )
