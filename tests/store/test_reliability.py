"""Killed writers and concurrent writers: acknowledged writes survive, nothing half-done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from labelwise.store import Store, enqueue, list_rounds, open_store, status
from labelwise.store.schema import Annotation, Project, Sample
from tests.store.factories import pool_project, tally_matches_samples

WRITER = Path(__file__).with_name("_writer.py")
ROOT = Path(__file__).resolve().parents[2]


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        # this checkout's labelwise, whatever an editable install elsewhere points at
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
    )


def acked(lines: list[str]) -> set[int]:
    return {int(line.split()[1]) for line in lines if line.startswith("ack ")}


def test_sigkill_during_import_leaves_no_half_import(store: Store, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w") as handle:
        handle.write("id,text,label\n")
        for i in range(150_000):
            handle.write(f"r{i},some text number {i},{'pos' if i % 2 else ''}\n")
    writer = start("import", store.url, str(big))
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "start"
    time.sleep(0.5)
    writer.send_signal(signal.SIGKILL)
    rest = writer.stdout.read()
    writer.wait()
    assert "done" not in rest, "the import finished before the kill: make the file bigger"
    reopened = open_store(store.url)
    try:
        with reopened.read() as session:
            assert session.scalar(select(func.count()).select_from(Sample)) == 0
            assert session.scalar(select(func.count()).select_from(Project)) == 0
    finally:
        reopened.close()


def test_sigkill_during_annotation_keeps_every_acknowledged_one(
    store: Store, tmp_path: Path
) -> None:
    ids = pool_project(store, tmp_path, n=400, annotators=1)
    enqueue(store, "p", [ids[f"s{i}"] for i in range(400)], [float(i) for i in range(400)])
    writer = start("annotate", store.url, "a0", "400")
    assert writer.stdout is not None
    lines = [writer.stdout.readline() for _ in range(15)]
    writer.send_signal(signal.SIGKILL)
    lines += writer.stdout.read().splitlines()
    writer.wait()
    acks = acked(lines)
    assert len(acks) >= 15
    reopened = open_store(store.url)
    try:
        with reopened.read() as session:
            stored = set(session.scalars(select(Annotation.id)))
        assert acks <= stored
        assert len(stored) - len(acks) <= 1  # at most the commit whose ack was not printed
        assert status(reopened, "p").by_state["labeled"] == len(stored)
        assert tally_matches_samples(reopened)
    finally:
        reopened.close()


def test_annotations_and_a_finishing_round_at_once_lose_nothing(
    store: Store, tmp_path: Path
) -> None:
    ids = pool_project(store, tmp_path, n=60, annotators=1)
    enqueue(store, "p", [ids[f"s{i}"] for i in range(60)], [float(i) for i in range(60)])
    annotating = start("annotate", store.url, "a0", "15")
    rounds = start("rounds", store.url, "4")
    out_a, err_a = annotating.communicate(timeout=120)
    out_r, err_r = rounds.communicate(timeout=120)
    assert annotating.returncode == 0, err_a
    assert rounds.returncode == 0, err_r
    with store.read() as session:
        stored = set(session.scalars(select(Annotation.id)))
    assert acked(out_a.splitlines()) == stored
    assert len(stored) == 15
    assert [r.number for r in list_rounds(store, "p")] == sorted(acked(out_r.splitlines()))
    assert len(list_rounds(store, "p")) == 4
    assert tally_matches_samples(store)
