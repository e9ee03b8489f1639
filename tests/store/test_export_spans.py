"""A spans project exported as CoNLL, spaCy JSON and DocBin reads back as the stored spans."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from labelwise.spans import Span
from labelwise.spans.document import Token
from labelwise.spans.formats import from_docbin, from_spacy_json, read_conll
from labelwise.spans.tokens import tokenize
from labelwise.store import (
    Store,
    StoreError,
    add_annotator,
    add_samples,
    create_dataset_version,
    create_project,
    enqueue,
    export_labeled,
    init_store,
    lease_next_task,
    submit_annotation,
)
from labelwise.store.export_spans import split_tokens

LABELS = ["PER", "ORG", "LOC"]
WORDS = [
    "Zoë", "Ada", "Lovelace", "北京", "東京都", "😀", "naïve", "Café", "São", "Paulo", ",", ".",
    "don't", "U.S", "state-of-the-art", "Müller", "Ñandú", "🇫🇷", "x", "42",
]  # fmt: skip
FIXED = [
    ("Ada Lovelace met Zoë in 北京.", [(0, 12, "PER"), (17, 20, "PER"), (24, 26, "LOC")]),
    ("\U0001f600 Grace  Hopper joined the Navy.", [(2, 15, "PER"), (27, 31, "ORG")]),
    ("AdaLovelace", [(3, 11, "PER")]),  # a span inside a token: the token is split
    ("Nothing to see here.", []),
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = init_store(f"sqlite:///{tmp_path / 'spans.db'}")
    yield opened
    opened.close()


def _random_samples(rng: random.Random, n: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Texts of random words and random non-overlapping spans over whole tokens."""
    samples = []
    for _ in range(n):
        text = ""
        for _ in range(rng.randint(1, 12)):
            text += rng.choice(["", " ", " ", "  "]) if text else ""
            text += rng.choice(WORDS)
        tokens = tokenize(text)
        spans, i = [], 0
        while i < len(tokens):
            if rng.random() < 0.3:
                j = min(len(tokens) - 1, i + rng.randint(0, 2))
                spans.append((tokens[i].start, tokens[j].end, rng.choice(LABELS)))
                i = j + 1 + rng.randint(0, 1)
            else:
                i += 1
        samples.append((text, spans))
    return samples


def _fill(
    store: Store,
    samples: list[tuple[str, list[tuple[int, int, str]]]],
    project: str = "p",
    annotator: str = "a",
) -> None:
    """A spans project ``project`` whose samples ``annotator`` labeled with their spans."""
    create_project(store, project, LABELS, answer_kind="spans")
    rows = [{"id": f"s{i}", "text": t} for i, (t, _) in enumerate(samples)]
    ids = add_samples(store, project, rows)
    add_annotator(store, annotator)
    enqueue(store, project, ids, scores=[float(len(ids) - k) for k in range(len(ids))])
    for _, spans in samples:
        lease = lease_next_task(store, project, annotator)
        assert lease is not None
        submit_annotation(store, lease.task_id, annotator, [list(s) for s in spans])


def _stored(samples: list[tuple[str, list[tuple[int, int, str]]]]) -> list[list[Span]]:
    return [sorted(Span(*s) for s in spans) for _, spans in samples]


def _squeezed(text: str, spans: list[Span]) -> list[tuple[str, str]]:
    """Each span's text without whitespace, and its label: what CoNLL keeps."""
    return [("".join(text[s.start : s.end].split()), s.label) for s in spans]


def _samples(seed: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    return FIXED + _random_samples(random.Random(seed), 12)


@pytest.mark.parametrize("seed", [0, 1])
def test_spacy_json_reads_back_the_stored_texts_and_spans(
    store: Store, tmp_path: Path, seed: int
) -> None:
    samples = _samples(seed)
    _fill(store, samples)
    out = tmp_path / "p.json"
    assert export_labeled(store, "p", out, "spacy-json") == len(samples)
    documents = from_spacy_json(json.loads(out.read_text(encoding="utf-8")))
    assert [d.text for d in documents] == [t for t, _ in samples]
    assert [list(d.spans) for d in documents] == _stored(samples)


@pytest.mark.parametrize("seed", [0, 1])
def test_conll_reads_back_the_stored_spans_up_to_spacing(
    store: Store, tmp_path: Path, seed: int
) -> None:
    samples = [s for s in _samples(seed) if tokenize(s[0])]  # CoNLL has no empty sentence
    _fill(store, samples)
    out = tmp_path / "p.conll"
    assert export_labeled(store, "p", out, "conll") == len(samples)
    documents = read_conll(out.read_text(encoding="utf-8"))
    assert len(documents) == len(samples)
    for document, (text, spans) in zip(documents, samples, strict=True):
        assert "".join(document.text.split()) == "".join(text.split())
        assert _squeezed(document.text, list(document.spans)) == _squeezed(
            text, sorted(Span(*s) for s in spans)
        )


@pytest.mark.parametrize("seed", [0, 1])
def test_docbin_reads_back_texts_spans_and_ids(store: Store, tmp_path: Path, seed: int) -> None:
    pytest.importorskip("spacy")
    samples = _samples(seed)
    _fill(store, samples)
    out = tmp_path / "p.spacy"
    assert export_labeled(store, "p", out, "docbin") == len(samples)
    documents = from_docbin(out.read_bytes())
    assert [d.id for d in documents] == [f"s{i}" for i in range(len(samples))]
    assert [d.text for d in documents] == [t for t, _ in samples]
    assert [list(d.spans) for d in documents] == _stored(samples)


def test_a_dataset_version_exports_its_spans_not_later_ones(store: Store, tmp_path: Path) -> None:
    _fill(store, FIXED[:2])
    create_dataset_version(store, "p")
    ids = add_samples(store, "p", [{"id": "late", "text": "Paris"}])
    enqueue(store, "p", ids, scores=[1.0])
    lease = lease_next_task(store, "p", "a")
    assert lease is not None
    submit_annotation(store, lease.task_id, "a", [[0, 5, "LOC"]])
    out = tmp_path / "v1.json"
    assert export_labeled(store, "p", out, "spacy-json", version=1) == 2
    assert len(from_spacy_json(json.loads(out.read_text(encoding="utf-8")))) == 2
    assert export_labeled(store, "p", out, "spacy-json") == 3


def test_another_answer_kind_is_refused_naming_it(store: Store, tmp_path: Path) -> None:
    create_project(store, "c", ["pos", "neg"])
    add_samples(store, "c", [{"id": "a", "text": "good"}])
    for file_format in ("conll", "spacy-json", "docbin"):
        with pytest.raises(StoreError, match="project 'c' has answer kind 'label'"):
            export_labeled(store, "c", tmp_path / "c.out", file_format)  # type: ignore[arg-type]
    assert not (tmp_path / "c.out").exists()


def test_docbin_without_spacy_names_what_to_install(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fill(store, FIXED[:1])
    monkeypatch.setitem(sys.modules, "spacy", None)  # ``import spacy`` now fails
    with pytest.raises(StoreError, match=r"needs spaCy.*labelwise\[spans\]"):
        export_labeled(store, "p", tmp_path / "p.spacy", "docbin")
    assert not (tmp_path / "p.spacy").exists()


def test_a_span_edge_on_whitespace_is_refused_naming_the_sample(
    store: Store, tmp_path: Path
) -> None:
    _fill(store, [("Ada  Lovelace", [(0, 4, "PER")])])  # "Ada " ends on a space
    for file_format in ("conll", "spacy-json"):
        with pytest.raises(StoreError, match="sample 's0'"):
            export_labeled(store, "p", tmp_path / "p.out", file_format)  # type: ignore[arg-type]


def test_include_retracted_is_refused_for_span_formats(store: Store, tmp_path: Path) -> None:
    _fill(store, FIXED[:1])
    with pytest.raises(StoreError, match="include-retracted"):
        export_labeled(store, "p", tmp_path / "p.conll", "conll", include_retracted=True)


def test_split_tokens_matches_a_per_character_reference() -> None:
    rng = random.Random(7)
    for _ in range(200):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        tokens = tokenize(text)
        cuts = [rng.randint(0, len(text)) for _ in range(rng.randint(0, 5))]
        got = split_tokens(tokens, cuts)
        # reference: a character's piece is its token and the number of cuts at or before it
        owner = {}
        for k, tok in enumerate(tokens):
            for c in range(tok.start, tok.end):
                owner[c] = (k, sum(1 for p in set(cuts) if tok.start < p <= c))
        pieces: dict[tuple[int, int], list[int]] = {}
        for c in sorted(owner):
            pieces.setdefault(owner[c], []).append(c)
        want = [Token(text[cs[0] : cs[-1] + 1], cs[0], cs[-1] + 1) for cs in pieces.values()]
        assert got == want
