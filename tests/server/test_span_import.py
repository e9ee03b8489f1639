"""The import form takes span files (a spans project); its strategy list offers the sequence
strategies."""

from __future__ import annotations

from tests.server.conftest import Served

CONLL = b"Ada\tB-PER\nLovelace\tI-PER\nin\tO\nParis\tB-LOC\n\nhi\tO\n"


def test_a_conll_upload_makes_a_spans_project(served: Served) -> None:
    response = served.client.post(
        "/api/admin/projects/ner/import",
        headers=served.admin,
        files={"file": ("train.conll", CONLL, "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert response.json()["inserted"] == response.json()["labeled"] == 2
    listed = served.client.get(
        "/api/admin/strategies", params={"answer_kind": "spans"}, headers=served.admin
    )
    assert listed.status_code == 200
    assert {"mnlp", "token_entropy", "random"} <= {s["name"] for s in listed.json()}
    assert {s["model"] for s in listed.json()} == {"crf"}
    chosen = served.client.patch(
        "/api/admin/projects/ner/settings", headers=served.admin, json={"strategy": "token_entropy"}
    )
    assert chosen.status_code == 200 and chosen.json()["loop"]["strategy"] == "token_entropy"
    refused = served.client.patch(
        "/api/admin/projects/ner/settings", headers=served.admin, json={"strategy": "margin"}
    )
    assert refused.status_code == 422 and "sequence" in refused.text


def test_a_bad_conll_upload_names_its_line_and_imports_nothing(served: Served) -> None:
    response = served.client.post(
        "/api/admin/projects/ner/import",
        headers=served.admin,
        files={"file": ("train.conll", b"Ada\tB-PER\nParis\n", "text/plain")},
    )
    assert response.status_code == 422
    assert "train.conll, line 2" in response.text and "nothing was imported" in response.text
    assert served.client.get("/api/admin/projects/ner", headers=served.admin).status_code == 404
