"""``labelwise worker`` and ``serve --workers N``: API processes and trainers over PostgreSQL.

Real processes on a real PostgreSQL server (a schema of its own per test; skipped when
LABELWISE_TEST_PG_URL is unset): two workers never train one project at once, a worker killed
with SIGKILL mid-round leaves every recorded round whole and the other worker takes over, and
the API processes of ``serve --workers 2`` serve while training nothing themselves. SQLite is
refused with the reason.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelwise.controller import Controller
from labelwise.controller.background import ClaimedController, RoundsBusyError
from labelwise.store import (
    Store,
    add_annotator,
    get_project,
    import_samples,
    init_store,
    lease_next_task,
    list_rounds,
    submit_annotation,
)
from labelwise.store.errors import StoreError
from labelwise.store.projects import claim_rounds
from labelwise.store.schema import Audit, Round, Score
from tests.store.databases import fresh_database_url
from tests.store.factories import tally_matches_samples, write_csv

CLI = [sys.executable, "-c", "from labelwise.cli import main; main()"]
WORDS = {"pos": ["good", "great", "fine", "lovely"], "neg": ["bad", "awful", "poor", "sad"]}


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url("postgresql", tmp_path)


def text_project(store: Store, tmp_path: Path, n_pool: int = 400, retrain_every: int = 3) -> None:
    """Project ``p``: ``n_pool`` short reviews to label, 40 held out; annotator ``a0``."""
    rows = []
    for i in range(n_pool + 40):
        label = "pos" if i % 2 else "neg"
        split = "pool" if i < n_pool else "eval"
        text = f"{WORDS[label][i % 4]} film {i} {'plot ' * (i % 7)}"
        rows.append({"id": f"s{i}", "text": text, "split": split,
                     "label": label if split == "eval" else ""})  # fmt: skip
    import_samples(store, write_csv(tmp_path / "p.csv", rows), "p", labels=["neg", "pos"])
    Controller(store, "p").configure(retrain_every=retrain_every, features="hashed")
    add_annotator(store, "a0", "annotator", "a0-token")


class Worker:
    """A ``labelwise worker`` process and the lines it printed, each with when it came."""

    def __init__(self, url: str, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [*CLI, "worker", "--store", url, "--poll-seconds", "0.05", "--claim-seconds",
             "0.2", *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60.0, after: int = 0) -> int:
        """Index of the first line (from ``after``) matching ``pattern``; fails on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for i in range(after, len(self.lines)):
                    if re.search(pattern, self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line matching {pattern!r} in {self.lines}")
                self.changed.wait(min(left, 0.5))

    def said(self, pattern: str) -> bool:
        with self.changed:
            return any(re.search(pattern, line) for line in self.lines)

    def rounds(self) -> list[tuple[str, str, float]]:
        """``(phase, number, unix time)`` of every round line."""
        with self.changed:
            found = [
                re.fullmatch(r"round (start|end|failed) p (\S+) (\S+)", line) for line in self.lines
            ]
        return [(m.group(1), m.group(2), float(m.group(3))) for m in found if m]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._reader.join(5)


class Labeler:
    """An annotator answering as fast as the queue allows, in a thread.

    A store call that PostgreSQL ends as a deadlock victim is counted in ``deadlocks`` (an
    API request would have answered 500) and tried again; any other error ends the thread
    and is kept in ``error``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.answered = 0
        self.deadlocks: list[str] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._label, daemon=True)
        self._thread.start()

    def _label(self) -> None:
        import psycopg.errors

        while not self._stop.is_set():
            try:
                self._answer_one()
            except BaseException as exc:
                cause = getattr(exc, "orig", exc)  # SQLAlchemy wraps the driver's error
                if not isinstance(cause, psycopg.errors.DeadlockDetected):
                    self.error = exc
                    return
                self.deadlocks.append(str(cause).splitlines()[0])

    def _answer_one(self) -> None:
        lease = lease_next_task(self.store, "p", "a0", 120)
        if lease is None:
            self._stop.wait(0.05)
            return
        label = "pos" if any(w in (lease.text or "") for w in WORDS["pos"]) else "neg"
        submit_annotation(self.store, lease.task_id, "a0", label)
        self.answered += 1
        self._stop.wait(0.02)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def intervals(worker: Worker, killed_at: float | None = None) -> list[tuple[float, float]]:
    """The times each of the worker's rounds ran; one cut off by a kill ends at the kill."""
    spans, start = [], None
    for phase, _, at in worker.rounds():
        if phase == "start":
            start = at
        elif start is not None:
            spans.append((start, at))
            start = None
    if start is not None:
        spans.append((start, killed_at if killed_at is not None else time.time()))
    return spans


def assert_rounds_whole(store: Store) -> list[int]:
    """Every recorded round has all its scores and its dataset version; numbers 1..n."""
    rounds = list_rounds(store, "p")
    numbers = [r.number for r in rounds]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert all(r.version_number is not None for r in rounds)
    with store.read() as session:
        for round_id, number in session.execute(select(Round.id, Round.number)):
            scores = session.scalar(select(func.count()).where(Score.round_id == round_id))
            audit = session.scalars(
                select(Audit.detail).where(
                    Audit.action == "record_round", Audit.object_id == str(round_id)
                )
            ).one()
            assert audit is not None and audit["scores"] == scores, (number, audit, scores)
    assert tally_matches_samples(store)
    return numbers


def test_stores_in_two_schemas_of_one_database_claim_their_projects_apart(
    pg_url: str, tmp_path: Path
) -> None:
    # advisory locks are per database: the claim's key must name the store (its schema), or
    # project 1 of one store would block project 1 of another
    other_url = next(other_schema := fresh_database_url("postgresql", tmp_path / "b"))
    (tmp_path / "b").mkdir()
    mine, other = init_store(pg_url), init_store(other_url)
    try:
        text_project(mine, tmp_path, n_pool=10)
        text_project(other, tmp_path / "b", n_pool=10)
        assert get_project(mine, "p").id == get_project(other, "p").id
        first, second = claim_rounds(mine, "p"), claim_rounds(other, "p")
        assert first is not None and second is not None
        assert claim_rounds(mine, "p") is None  # still exclusive within one store
        first.release()
        second.release()
    finally:
        mine.close()
        other.close()
        other_schema.close()


def test_claims_are_exclusive_and_die_with_their_session(pg_url: str, tmp_path: Path) -> None:
    store = init_store(pg_url)
    try:
        text_project(store, tmp_path, n_pool=10)
        first = claim_rounds(store, "p")
        assert first is not None and first.held
        assert claim_rounds(store, "p") is None  # another session: refused while held
        with pytest.raises(RoundsBusyError, match="labelwise worker"):
            ClaimedController(store, "p").run_round()
        first.release()
        assert not first.held
        second = claim_rounds(store, "p")
        assert second is not None
        # the holder's session ends (its process was killed): the lock goes with it
        with store.engine.connect() as admin:
            admin.execute(select(func.pg_terminate_backend(second.backend_pid)))
        assert not second.held
        third = claim_rounds(store, "p")
        assert third is not None
        third.release()
    finally:
        store.close()


def test_claims_refuse_sqlite_with_the_reason(tmp_path: Path) -> None:
    store = init_store(f"sqlite:///{tmp_path / 's.db'}")
    try:
        text_project(store, tmp_path, n_pool=10)
        with pytest.raises(StoreError, match="one writer at a time"):
            claim_rounds(store, "p")
    finally:
        store.close()


def test_worker_and_many_api_processes_refuse_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    for args in (["worker", "--store", url], ["serve", "--workers", "2", "--store", url]):
        done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done
        assert "SQLite has one writer at a time" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_worker_for_a_project_that_is_not_there_says_so(pg_url: str, tmp_path: Path) -> None:
    store = init_store(pg_url)
    try:
        text_project(store, tmp_path, n_pool=10)
    finally:
        store.close()
    done = subprocess.run(
        [*CLI, "worker", "--store", pg_url, "--project", "nope"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done
    assert "no project named 'nope'" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_two_workers_never_train_one_project_at_once(pg_url: str, tmp_path: Path) -> None:
    store = init_store(pg_url)
    workers: list[Worker] = []
    labeler = None
    try:
        text_project(store, tmp_path)
        workers = [Worker(pg_url), Worker(pg_url)]
        owner = next(w for w in _first_to_say(workers, r"^training p$"))
        labeler = Labeler(store)
        owner.wait_for(r"^round end p 4 ", timeout=120)
        labeler.stop()
        other = workers[1] if owner is workers[0] else workers[0]
        other.stop()  # first: once the owner stops, its standby would take the project over
        owner.stop()
        assert labeler.error is None, repr(labeler.error)
        assert not other.said(r"^training p$")  # it waited: the project was held
        spans = sorted(intervals(owner) + intervals(other))
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
        numbers = assert_rounds_whole(store)
        ends = [int(n) for w in workers for phase, n, _ in w.rounds() if phase == "end"]
        failed = [n for w in workers for phase, n, _ in w.rounds() if phase == "failed"]
        # every round by exactly one worker; a round that failed after its record (see the
        # deadlock test below) is recorded whole without its "end"
        assert len(set(ends)) == len(ends) and set(ends) <= set(numbers)
        assert len(numbers) - len(ends) <= len(failed), (numbers, ends, failed)
    finally:
        for worker in workers:
            worker.stop()
        if labeler is not None:
            labeler.stop()
        store.close()


def _first_to_say(workers: list[Worker], pattern: str, timeout: float = 90.0) -> Iterator[Worker]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            if worker.said(pattern):
                yield worker
                return
        time.sleep(0.05)
    raise AssertionError(f"no worker said {pattern!r}: {[w.lines for w in workers]}")


@pytest.mark.slow
def test_a_worker_killed_mid_round_leaves_whole_rounds_and_the_other_takes_over(
    pg_url: str, tmp_path: Path
) -> None:
    store = init_store(pg_url)
    workers: list[Worker] = []
    labeler = None
    try:
        text_project(store, tmp_path, n_pool=3_000)
        workers = [Worker(pg_url), Worker(pg_url)]
        owner = next(_first_to_say(workers, r"^training p$"))
        other = workers[1] if owner is workers[0] else workers[0]
        labeler = Labeler(store)
        owner.wait_for(r"^round end p 2 ", timeout=120)
        started = owner.wait_for(r"^round start p ", timeout=120, after=len(owner.lines) - 1)
        owner.process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        owner.process.wait(10)
        owner._reader.join(5)
        cut_off = owner.lines[started + 1 :]
        assert not any(line.startswith("round end") for line in cut_off), owner.lines[-5:]
        # the other worker claims the project and trains on
        took_over = other.wait_for(r"^training p$", timeout=60)
        other.wait_for(r"^round end p ", timeout=120, after=took_over)
        labeler.stop()
        other.stop()
        spans = sorted(intervals(owner, killed_at) + intervals(other))
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
        numbers = assert_rounds_whole(store)
        ended = sorted(int(n) for w in workers for phase, n, _ in w.rounds() if phase == "end")
        # the killed round was not recorded, or (killed after its commit, while re-ordering
        # the queue) recorded whole; never half
        failed = [n for w in workers for phase, n, _ in w.rounds() if phase == "failed"]
        assert set(ended) <= set(numbers)
        assert len(set(numbers) - set(ended)) <= 1 + len(failed), (numbers, ended, failed)
        assert labeler.error is None, repr(labeler.error)
        assert labeler.answered > 0
    finally:
        for worker in workers:
            worker.stop()
        if labeler is not None:
            labeler.stop()
        store.close()


@pytest.mark.slow
def test_annotators_meet_no_deadlock_while_a_worker_trains(pg_url: str, tmp_path: Path) -> None:
    store = init_store(pg_url)
    worker = None
    labeler = None
    try:
        text_project(store, tmp_path, retrain_every=2)
        worker = Worker(pg_url)
        worker.wait_for(r"^training p$")
        labeler = Labeler(store)
        deadline = time.monotonic() + 120
        while not worker.said(r"^round end p 10 ") and labeler.error is None:
            assert time.monotonic() < deadline, (worker.lines, labeler.answered, labeler.deadlocks)
            time.sleep(0.1)
        labeler.stop()
        assert labeler.error is None, repr(labeler.error)
        assert labeler.deadlocks == []  # the annotator's side
        assert not worker.said(r"(?i)deadlock detected"), worker.lines  # the round's side
    finally:
        if worker is not None:
            worker.stop()
        if labeler is not None:
            labeler.stop()
        store.close()


def _http(
    base: str, method: str, path: str, token: str, body: dict | None = None
) -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_serve_with_workers_runs_api_processes_that_leave_rounds_to_the_worker(
    pg_url: str, tmp_path: Path
) -> None:
    from labelwise.cli.serve_cmd import free_port
    from labelwise.store.members import add_member

    store = init_store(pg_url)
    text_project(store, tmp_path, n_pool=50)
    add_member(store, "p", "a0")
    add_annotator(store, "root", "admin", "root-token")
    port = free_port("127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    serve = subprocess.Popen(
        [*CLI, "serve", "--workers", "2", "--store", pg_url, "--port", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = None
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, me = _http(base, "GET", "/api/me", "a0-token")
                break
            except OSError:
                assert serve.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert status == 200 and me["name"] == "a0"
        api_processes = [
            child
            for child in _children(serve.pid)
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
        ]
        assert len(api_processes) == 2, api_processes
        # the API processes train nothing: no round, so no queue yet
        time.sleep(1.5)
        status, empty = _http(base, "POST", "/api/projects/p/next", "a0-token")
        assert status == 200 and empty["task"] is None, empty
        assert list_rounds(store, "p") == []
        # a worker runs the first round; the API hands out its queue
        worker = Worker(pg_url)
        worker.wait_for(r"^round end p 1 ", timeout=90)
        deadline = time.monotonic() + 30
        while (task := _http(base, "POST", "/api/projects/p/next", "a0-token")[1]["task"]) is None:
            assert time.monotonic() < deadline, "the worker's queue never reached the API"
            time.sleep(0.2)
        assert task["project"] == "p"
        # an admin's "round now" is refused while the worker holds the project, not run twice
        status, refused = _http(base, "POST", "/api/admin/projects/p/rounds", "root-token")
        assert status == 409 and "labelwise worker" in refused["detail"], refused
        assert [r.number for r in list_rounds(store, "p")] == [1]
    finally:
        if worker is not None:
            worker.stop()
        serve.send_signal(signal.SIGINT)
        try:
            output, _ = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            output, _ = serve.communicate()
        store.close()
    assert "2 API process(es)" in output and "labelwise worker --store" in output, output


@pytest.mark.slow
def test_an_api_process_suggests_with_the_model_the_worker_kept(
    pg_url: str, tmp_path: Path
) -> None:
    from labelwise.cli.serve_cmd import free_port
    from labelwise.store.members import add_member

    store = init_store(pg_url)
    text_project(store, tmp_path, n_pool=300)
    add_member(store, "p", "a0")
    port = free_port("127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("w")  # a file: a pipe nobody reads would fill up
    serve = subprocess.Popen(
        [*CLI, "serve", "--workers", "1", "--trainer", "worker", "--store", pg_url,
         "--port", str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = Worker(pg_url)
    try:
        worker.wait_for(r"^round end p 1 ", timeout=90)  # cold: a queue, no model yet
        deadline = time.monotonic() + 90
        while True:
            try:
                status, found = _http(base, "POST", "/api/projects/p/next", "a0-token")
                break
            except OSError:
                assert serve.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert status == 200 and found["task"] is not None, found
        assert found["task"]["suggestion"] is None  # no round has fitted a model yet
        task, answered = found["task"], 0
        while (suggestion := task["suggestion"]) is None:
            assert time.monotonic() < deadline, (answered, worker.lines, _tail(tmp_path))
            label = "pos" if any(w in task["text"] for w in WORDS["pos"]) else "neg"
            path = f"/api/tasks/{task['task_id']}/annotation?next=true"
            status, reply = _http(base, "POST", path, "a0-token", {"label": label})
            assert status == 201, reply
            answered += 1
            time.sleep(0.1)  # an annotator's pace, if a fast one's: the API looks every 2 s
            task = reply["next"]["task"]
            while task is None:  # the worker tops the queue up every quarter second
                assert time.monotonic() < deadline, (answered, worker.lines, _tail(tmp_path))
                time.sleep(0.2)
                task = _http(base, "POST", "/api/projects/p/next", "a0-token")[1]["task"]
        # the suggestion is the model of a round the worker ran and kept
        ended = {int(n) for phase, n, _ in worker.rounds() if phase == "end"}
        assert suggestion["round"] in ended and suggestion["round"] >= 2, (suggestion, ended)
        assert suggestion["label"] in ("neg", "pos") and 0.5 <= suggestion["probability"] <= 1
        assert answered >= 3  # retrain_every labels before the first fitted round
    finally:
        worker.stop()
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait()
        log.close()
        store.close()


def _tail(folder: Path) -> str:
    return "\n".join((folder / "serve.log").read_text().splitlines()[-30:])


#: One API process's store work for an annotator: lease and answer until the queue is empty.
_ANNOTATE = """
import sys
from labelwise.store import lease_next_task, open_store, submit_annotation
store = open_store(sys.argv[1])
while (lease := lease_next_task(store, "p", sys.argv[2], 120)) is not None:
    submit_annotation(store, lease.task_id, sys.argv[2], "pos")
    print(lease.sample_id, flush=True)
store.close()
"""


@pytest.mark.slow
def test_processes_leasing_at_once_never_hand_one_sample_to_two(
    pg_url: str, tmp_path: Path
) -> None:
    from labelwise.store import enqueue, list_samples

    store = init_store(pg_url)
    try:
        text_project(store, tmp_path, n_pool=1_000)
        for i in range(1, 4):
            add_annotator(store, f"a{i}", "annotator", f"a{i}-token")
        pool = [s.id for s in list_samples(store, "p", split="pool")]
        enqueue(store, "p", pool, [float(i) for i in range(len(pool))])
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", _ANNOTATE, pg_url, f"a{i}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(4)
        ]
        answered: list[int] = []
        busy = 0
        for process in processes:
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
            answered += [int(line) for line in out.split()]
            busy += bool(out.split())
        assert sorted(answered) == sorted(pool)  # each sample once, none lost
        assert busy >= 2  # they did lease at the same time
        assert tally_matches_samples(store)
    finally:
        store.close()


def test_api_processes_see_a_stop_decided_by_a_worker_within_a_second(
    pg_url: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from labelwise.server import ServerSettings, create_app
    from labelwise.store import enqueue, list_samples, record_round
    from labelwise.store.members import add_member

    store = init_store(pg_url)
    try:
        text_project(store, tmp_path, n_pool=20)
        add_member(store, "p", "a0")
        enqueue(store, "p", [s.id for s in list_samples(store, "p", split="pool")])
        settings = ServerSettings(store=pg_url, trainer="worker", token_cache_seconds=0)
        with TestClient(create_app(settings, store)) as client:
            who = {"Authorization": "Bearer a0-token"}
            assert client.post("/api/projects/p/next", headers=who).json()["task"] is not None
            assert list_rounds(store, "p") == []  # the API ran no round of its own
            # a worker's round decides to stop (recorded in the store, another process)
            record_round(store, "p", "margin", metrics={"stop": True, "stop_reason": "budget"})
            time.sleep(1.1)
            answer = client.post("/api/projects/p/next", headers=who).json()
            assert answer["task"] is None and "stopped" in answer["reason"], answer
    finally:
        store.close()


def test_settings_refuse_many_processes_or_a_worker_trainer_on_sqlite() -> None:
    from pydantic import ValidationError

    from labelwise.server import ServerSettings

    for options in ({"workers": 2, "trainer": "worker"}, {"trainer": "worker"}):
        with pytest.raises(ValidationError, match="one writer at a time"):
            ServerSettings(store="sqlite:///x.db", **options)
    with pytest.raises(ValidationError, match="labelwise worker"):
        ServerSettings(store="postgresql://h/db", workers=2)  # every process would train
    assert ServerSettings(store="postgresql://h/db", workers=2, trainer="worker").workers == 2
