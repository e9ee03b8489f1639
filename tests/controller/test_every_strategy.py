"""Every registered strategy runs in the service: one cold round, labels, one warm round, on
tiny text, image and tabular projects in a real SQLite store, through the controller."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from labelwise.controller import Controller
from labelwise.controller.models import SERVICE_MODELS, build_model, resolve_model
from labelwise.errors import InvalidInputError
from labelwise.loop import supplies
from labelwise.store import (
    add_annotator,
    create_project,
    import_samples,
    init_store,
    lease_next_task,
    submit_annotation,
)
from labelwise.store.schema import Sample, Task
from labelwise.strategies import available_strategies

N_POOL, N_EVAL = 40, 10


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    keep = np.flatnonzero(y < 2)[: N_POOL + N_EVAL]
    return X[keep], y[keep]


def _rows(task: str, folder: Path) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Rows of a project of ``task`` and each sample's true label (the oracle)."""
    rows, truth = [], {}
    if task == "text":
        words = {
            "neg": ["dull", "boring", "awful", "flat"],
            "pos": ["great", "lovely", "fun", "warm"],
        }
        for i in range(N_POOL + N_EVAL):
            label = "pos" if i % 2 else "neg"
            rows.append({"id": f"s{i}", "text": f"a {words[label][i % 4]} film, take {i}"})
            truth[f"s{i}"] = label
    elif task == "image":
        from labelwise.server.demo import render_digit

        X, y = _digits()
        for i, (pixels, digit) in enumerate(zip(X, y, strict=True)):
            render_digit(pixels, folder / f"d{i}.png", scale=2)
            rows.append({"id": f"s{i}", "image": f"d{i}.png"})
            truth[f"s{i}"] = "pos" if digit else "neg"
    else:
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        for i in range(N_POOL + N_EVAL):
            row = {"id": f"s{i}"}
            row.update({f"f{j}": f"{data.data[i, j]:.4f}" for j in range(6)})
            rows.append(row)
            truth[f"s{i}"] = "pos" if data.target[i] else "neg"
    for i, row in enumerate(rows):
        split = "pool" if i < N_POOL else "eval"
        row["split"] = split
        row["label"] = truth[row["id"]] if split == "eval" else ""
    return rows, truth


@pytest.fixture(scope="module", params=["text", "image", "tabular"])
def project_files(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp(request.param)
    rows, truth = _rows(request.param, folder)
    path = folder / "samples.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return request.param, path, truth


TASK_TYPES = {
    "text": "text_classification",
    "image": "image_classification",
    "tabular": "tabular_classification",
}


@pytest.mark.parametrize("strategy", available_strategies())
def test_a_cold_and_a_warm_round_queue_distinct_open_pool_samples(
    project_files, strategy: str, tmp_path: Path
) -> None:
    task, path, truth = project_files
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    create_project(store, "p", ["neg", "pos"], TASK_TYPES[task], {"overlap": 1})
    import_samples(store, path, "p")
    add_annotator(store, "a")
    controller = Controller(store, "p")
    controller.configure(strategy=strategy, batch_size=6, features="hashed", stop_kappa=None)
    first = controller.run_round()
    assert first.queued == 6 and first.n_labeled == 0
    assert first.cold == (strategy != "random")  # random needs no model: never cold
    seen = set()
    for _ in range(6):  # the oracle answers the cold round's picks
        lease = lease_next_task(store, "p", "a")
        assert lease is not None
        submit_annotation(store, lease.task_id, "a", truth[lease.external_id])
        seen.add(truth[lease.external_id])
    assert seen == {"neg", "pos"}, "the cold start should find both classes"
    second = controller.run_round()
    # auto names the arm that chose: auto:margin, auto:badge...
    assert second.strategy.split(":")[0] == strategy and not second.cold
    assert second.n_labeled == 6 and second.model == resolve_model(strategy)
    with store.read() as session:
        queued = session.execute(
            select(Sample.id, Sample.split, Sample.state)
            .join(Task, Task.sample_id == Sample.id)
            .where(Task.state == "open")
        ).all()
    ids = [row.id for row in queued]
    assert len(ids) == len(set(ids)) >= 6  # distinct samples, the queue full again
    assert {row.split for row in queued} == {"pool"}
    assert {row.state for row in queued} == {"queued"}
    store.close()


def test_a_model_that_cannot_serve_the_strategy_is_refused_with_what_supplies_it() -> None:
    with pytest.raises(InvalidInputError, match=r"needs samples.*choose model 'committee'"):
        resolve_model("bald", "logreg")
    with pytest.raises(InvalidInputError, match="committee_proba"):
        resolve_model("vote_entropy", "logreg")
    assert resolve_model("margin") == "logreg"
    assert resolve_model("vote_entropy") == "committee"
    assert resolve_model("bald", "mc_dropout") == "mc_dropout"


@pytest.mark.parametrize("name", sorted(SERVICE_MODELS))
def test_the_declared_supplies_are_what_the_built_model_supplies(name: str) -> None:
    model = build_model(name, ["neg", "pos"], 8, seed=0)
    assert supplies(model, dense_features=False) == SERVICE_MODELS[name]
