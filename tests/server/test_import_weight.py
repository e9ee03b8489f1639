"""An API process imports no model library: not to start, nor to serve requests without a model.

scikit-learn, SciPy and torch cost seconds and hundreds of MB per process; an API process of
``labelwise serve --trainer worker`` never trains, and one whose project has no model yet needs
none of them to hand out tasks and take answers. Each check runs in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MODEL_LIBRARIES = ("sklearn", "scipy", "torch", "sentence_transformers", "transformers")

LOADED = f"""
import sys
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({MODEL_LIBRARIES!r}))
print("loaded:", ",".join(loaded))
"""


def _loaded_after(script: str, cwd: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script + LOADED],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("loaded:"), done.stdout
    return [name for name in line.removeprefix("loaded:").strip().split(",") if name]


def test_importing_the_app_imports_no_model_library(tmp_path: Path) -> None:
    assert _loaded_after("import labelwise.server.app", tmp_path) == []


SERVE_WITHOUT_A_MODEL = """
import csv
from fastapi.testclient import TestClient
from labelwise.server import ServerSettings, create_app
from labelwise.store import (
    add_annotator, enqueue, import_samples, init_store, list_samples, record_round,
)
from labelwise.store.members import add_member

with open("p.csv", "w", newline="") as handle:
    rows = csv.writer(handle)
    rows.writerow(["id", "text", "split", "label"])
    rows.writerows([f"s{i}", f"movie number {i}", "pool", ""] for i in range(20))
store = init_store("sqlite:///store.db")
import_samples(store, "p.csv", "reviews", labels=["neg", "pos"])
add_annotator(store, "ann", "annotator", "ann-token")
add_member(store, "reviews", "ann")
ids = [s.id for s in list_samples(store, "reviews", split="pool")]
enqueue(store, "reviews", ids, [0.0] * len(ids), None)
record_round(store, "reviews", "random", batch_size=len(ids), create_version=False)
who = {"Authorization": "Bearer ann-token"}
with TestClient(create_app(ServerSettings(store=store.url, background=False), store)) as client:
    task = client.post("/api/projects/reviews/next", headers=who).json()["task"]
    for label in ("pos", "neg", "pos"):
        done = client.post(f"/api/tasks/{task['task_id']}/answer", headers=who,
                           json={"label": label})
        assert done.status_code == 201, done.text
        task = done.json()["next"]["task"]
        assert task["suggestion"] is None  # no model yet
    for path in ("/api/me", "/api/projects", "/api/projects/reviews/progress",
                 "/api/projects/reviews/model"):
        assert client.get(path, headers=who).status_code == 200, path
    guess = client.post(f"/api/tasks/{task['task_id']}/guess", headers=who)
    assert guess.status_code == 200 and guess.json()["label"] is None
store.close()
"""


def test_serving_a_project_without_a_model_imports_no_model_library(tmp_path: Path) -> None:
    assert _loaded_after(SERVE_WITHOUT_A_MODEL, tmp_path) == []
