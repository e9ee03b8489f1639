"""The lead's API and page for number and label-set projects: creating one of any kind, the
strategies that fit it (422 for one that does not), and the project-wide agreement."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from labelwise.controller import tasks as annotating
from labelwise.server import ServerSettings, create_app
from labelwise.store import Store, add_annotator, add_samples, enqueue, init_store
from labelwise.store import get_project as get_project_info
from labelwise.store.answer_aggregation import project_agreement
from labelwise.store.members import add_member
from labelwise.strategies import available_strategies
from tests.server.conftest import bearer
from tests.store.databases import BACKENDS, fresh_database_url

ADMIN = bearer("admin-token")


@dataclass
class Served:
    store: Store
    client: TestClient


@pytest.fixture(params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    for url in fresh_database_url(request.param, tmp_path):
        store = init_store(url)
        add_annotator(store, "root", "admin", "admin-token")
        for name in ("ann", "bob"):
            add_annotator(store, name, "annotator", f"{name}-token")
        settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
        with TestClient(create_app(settings, store)) as client:
            yield Served(store, client)
        store.close()


def _create(served: Served, **body: object) -> tuple[int, dict[str, object] | str]:
    response = served.client.post("/api/admin/projects", json=body, headers=ADMIN)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def test_create_a_project_of_each_kind(served: Served) -> None:
    code, made = _create(
        served,
        name="ages",
        task_type="tabular_classification",
        answer_kind="number",
        min=0,
        max=120,
        step=0.5,
        aggregation="mean",
    )
    assert code == 201, made
    assert isinstance(made, dict) and made["answer_kind"] == "number" and made["labels"] == []
    assert made["answer"] == {"min": 0.0, "max": 120.0, "step": 0.5}
    code, made = _create(served, name="topics", answer_kind="labels", labels=["a", "b", "c"])
    assert code == 201 and isinstance(made, dict) and made["answer_kind"] == "labels"
    code, made = _create(served, name="plain", labels=["neg", "pos"])  # as before: a label
    assert code == 201 and isinstance(made, dict) and made["answer_kind"] == "label"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"answer_kind": "number", "labels": ["a", "b"]}, "takes no labels"),
        ({"answer_kind": "number", "min": 5, "max": 1}, "must be below max"),
        ({"answer_kind": "number", "step": -1}, "step must be positive"),
        ({"answer_kind": "labels", "labels": ["a", "b"], "min": 1}, "number projects only"),
        ({"answer_kind": "labels", "labels": ["a"]}, "at least 2 labels"),
        ({"labels": ["a"]}, "at least 2 labels"),
        ({"answer_kind": "score", "labels": ["a", "b"]}, "answer_kind"),
    ],
)
def test_a_bad_new_project_is_422_naming_the_problem(
    served: Served, body: dict[str, object], problem: str
) -> None:
    code, text = _create(served, name="p", **body)
    assert code == 422 and problem in str(text), text
    assert served.client.get("/api/admin/projects/p/settings", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("kind", "task", "good", "bad"),
    [("number", "regression", "emcm", "margin"), ("labels", "multilabel", "mmc", "gp_std")],
)
def test_settings_take_the_kinds_strategies_and_refuse_others_with_422(
    served: Served, kind: str, task: str, good: str, bad: str
) -> None:
    labels = ["a", "b", "c"] if kind == "labels" else []
    assert _create(served, name="p", answer_kind=kind, labels=labels)[0] == 201
    url = "/api/admin/projects/p/settings"
    shown = served.client.get(url, headers=ADMIN).json()
    default = "qbc_variance" if kind == "number" else "multilabel_adaptive"
    assert shown["loop"]["strategy"] == default  # the strategy that runs, not "margin"
    # the form sends back what it showed: accepted
    assert served.client.patch(url, json={"strategy": default}, headers=ADMIN).status_code == 200
    refused = served.client.patch(url, json={"strategy": bad}, headers=ADMIN)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert f"strategy {bad!r} does not serve" in detail
    assert all(name in detail for name in available_strategies(task))  # type: ignore[arg-type]
    assert served.client.get(url, headers=ADMIN).json()["loop"]["strategy"] == default
    done = served.client.patch(url, json={"strategy": good}, headers=ADMIN)
    assert done.status_code == 200 and done.json()["loop"]["strategy"] == good
    listed = served.client.get(f"/api/admin/strategies?answer_kind={kind}", headers=ADMIN).json()
    assert [s["name"] for s in listed] == available_strategies(task)  # type: ignore[arg-type]
    assert {s["model"] for s in listed} == {
        "bootstrap_ridge" if kind == "number" else "one_vs_rest"
    }


def _interval_alpha(answers: dict[int, list[float]]) -> float:
    """Krippendorff's alpha, interval metric, the slow textbook way: every ordered pair of
    values within a sample (weighted 1 / (m_u - 1)) against every pair across all values."""
    units = [v for v in answers.values() if len(v) >= 2]
    values = [x for v in units for x in v]
    n = len(values)
    observed = sum(
        (a - b) ** 2 / (len(v) - 1) for v in units for a, b in itertools.permutations(v, 2)
    )
    expected = sum((a - b) ** 2 for a, b in itertools.permutations(values, 2)) / (n - 1)
    return 1.0 - observed / expected


def test_agreement_of_a_number_project_is_krippendorffs_interval_alpha(served: Served) -> None:
    assert _create(served, name="ages", task_type="tabular_classification", answer_kind="number")[0]
    served.client.patch(
        "/api/admin/projects/ages/settings", json={"overlap": 2}, headers=ADMIN
    ).raise_for_status()
    ids = add_samples(served.store, "ages", [{"id": f"r{i}", "x": float(i)} for i in range(6)])
    enqueue(served.store, "ages", ids)
    for name in ("ann", "bob"):
        add_member(served.store, "ages", name)
    url = "/api/admin/projects/ages/agreement"
    before = served.client.get(url, headers=ADMIN).json()
    assert before["alpha"] is None and "overlap to 2" in before["undefined_because"]
    assert before["metric"] == "Krippendorff's alpha (interval)" and before["explanation"]
    rng = np.random.default_rng(4)
    answers: dict[int, list[float]] = {}
    for _ in range(6):
        for name in ("ann", "bob"):
            found = annotating.next_task(served.store, "ages", name)
            if found.lease is None:
                continue
            value = float(rng.integers(0, 20))
            annotating.answer(served.store, found.lease.task_id, name, value)
            answers.setdefault(found.lease.sample_id, []).append(value)
    assert sum(len(v) == 2 for v in answers.values()) >= 4  # shared samples to agree on
    after = served.client.get(url, headers=ADMIN).json()
    assert after["undefined_because"] is None
    assert after["alpha"] == pytest.approx(_interval_alpha(answers), abs=1e-9)


def test_agreement_of_a_label_set_project_is_the_stores(served: Served) -> None:
    assert _create(served, name="t", answer_kind="labels", labels=["a", "b", "c"])[0] == 201
    served.client.patch(
        "/api/admin/projects/t/settings", json={"overlap": 2}, headers=ADMIN
    ).raise_for_status()
    ids = add_samples(served.store, "t", [{"id": f"t{i}", "text": f"item {i}"} for i in range(5)])
    enqueue(served.store, "t", ids)
    for name in ("ann", "bob"):
        add_member(served.store, "t", name)
    rng = np.random.default_rng(2)
    answered = 0
    for _ in range(5):
        for name in ("ann", "bob"):
            found = annotating.next_task(served.store, "t", name)
            if found.lease is not None:
                chosen = [x for x in "abc" if rng.random() < 0.5]
                annotating.answer(served.store, found.lease.task_id, name, chosen)
                answered += 1
    assert answered >= 8
    shown = served.client.get("/api/admin/projects/t/agreement", headers=ADMIN).json()
    assert shown["metric"] == "Krippendorff's alpha (MASI)" and "label sets" in shown["explanation"]
    assert shown["alpha"] == pytest.approx(project_agreement(served.store, "t"), abs=1e-12)


def test_the_lead_page_has_the_kind_form_and_the_agreement(served: Served) -> None:
    page = served.client.get("/static/admin.html").text
    for needle in ('id="create-kind"', 'value="number"', 'value="labels"', 'id="create-min"',
                   'id="create-step"', 'id="ov-agreement"', 'id="ov-agreement-note"'):  # fmt: skip
        assert needle in page
    script = served.client.get("/static/admin.js").text
    assert "/agreement" in script and "answer_kind" in script


def test_the_new_fields_refuse_non_finite_and_odd_values_without_echo(served: Served) -> None:
    raws = ["NaN", "Infinity", "-Infinity", '"echo-me' + "z" * 5_000 + '"']
    for field in ("min", "max", "step", "answer_kind", "aggregation"):
        for raw in raws:
            kind = "" if field == "answer_kind" else '"answer_kind": "number", '
            response = served.client.post(
                "/api/admin/projects",
                content='{"name": "x", %s"%s": %s}' % (kind, field, raw),  # noqa: UP031
                headers={**ADMIN, "Content-Type": "application/json"},
            )
            assert response.status_code == 422, (field, raw, response.text)
            assert field in response.text and "zzzz" not in response.text


@pytest.mark.browser
@pytest.mark.slow
def test_the_lead_creates_a_number_project_and_sees_its_strategies_and_agreement(
    tmp_path: Path,
) -> None:
    """In Debian's chromium (skipped without it or without playwright)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("needs Debian's chromium: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    import socket
    import threading
    import time

    import uvicorn

    store = init_store(f"sqlite:///{tmp_path / 'lead.db'}")
    add_annotator(store, "root", "admin", "admin-token")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = ServerSettings(store=store.url, background=False, token_cache_seconds=0)
    config = uvicorn.Config(create_app(settings, store), host="127.0.0.1", port=port)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium))
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/static/admin.html")
            page.fill("#token", "admin-token")
            page.click("#signin-button")
            page.wait_for_selector("#work:not(.hidden)")
            page.fill("#create-name", "ages")
            page.select_option("#create-task", "tabular_classification")
            page.select_option("#create-kind", "number")
            assert page.is_hidden("#create-labels-field") and page.is_visible("#create-min")
            page.fill("#create-min", "0")
            page.fill("#create-max", "120")
            page.fill("#create-step", "0.5")
            page.click("#create-form button")
            sync_api.expect(page.locator("#message")).to_contain_text("Created ages")
            sync_api.expect(page.locator("#ov-agreement")).to_have_text("undefined")
            note = page.locator("#ov-agreement-note")
            sync_api.expect(note).to_contain_text("interval")
            sync_api.expect(note).to_contain_text("overlap to 2")
            offered = page.eval_on_selector_all("#strategy option", "os => os.map(o => o.value)")
            assert offered == available_strategies("regression")
            assert page.input_value("#strategy") == "qbc_variance"
            page.select_option("#strategy", "emcm")
            page.click("#settings-form button")
            sync_api.expect(page.locator("#message")).to_contain_text("Settings saved")
            browser.close()
        info = get_project_info(store, "ages")
        assert info.answer_kind == "number" and info.settings["loop"]["strategy"] == "emcm"
        assert info.settings["answer"] == {
            "min": 0.0,
            "max": 120.0,
            "step": 0.5,
            "aggregation": "median",
        }
    finally:
        server.should_exit = True
        thread.join(10)
        store.close()
