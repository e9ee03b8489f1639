"""Crash run of the PostgreSQL deployment (not CI): SIGKILL API processes and the trainer while
annotators label, then check that nothing acknowledged was lost and nothing was left half done.

The service runs as an operator runs it past one process: ``--api`` API processes
(``labelwise serve --trainer worker``, each on a port of its own, as behind a load balancer, so
that each restart's readiness can be timed on its own port) and one trainer (``labelwise
worker``), over a fresh schema of ``--store``'s database (dropped afterwards). ``--annotators``
annotators label through the annotation page's requests (:class:`benchmarks.service.Page`),
annotator k on API process k mod ``--api``; a request cut by a kill is sent again until its
process is back, as an annotator clicks again. The project retrains every ``--retrain-every``
labels (hashed word features, so rounds are quick and many are killed midway) with leases of
``--lease-seconds``.

``--kills`` times, at a random moment (``--gap`` seconds at most after the last restart was
ready), one of the processes, chosen at random, gets SIGKILL and is started again at once; for
an API process the time until ``GET /health`` answers on its port is its restart-to-ready time,
for the trainer the time until it holds the project again (its ``training bench`` line).

Afterwards, with the annotators stopped and the service shut down, the store is checked
(:func:`check_store`): every answer acknowledged with a 201 is there as acknowledged; the
integrity rules (the state tally matches the samples, no sample answered past its overlap, each
done task has its one answer and each answer's task is done, labels exactly for the labeled
samples, every queued/in-progress sample has its open/leased task); no lease runs past its
length, and none whose time ran out is still held after the next lease call; every round is whole
(numbers 1..n without a gap, each round's scores all there as its audit row counted them). The
exit status is 1 when a check fails; ``--json`` writes every figure.

    .venv/bin/python -m benchmarks.crash_bench --store postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python -m benchmarks.crash_bench --store ... --kills 3 --json /tmp/crash.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import and_, func, select

from benchmarks.service import (
    PROJECT,
    Page,
    Processes,
    build_store,
    free_port,
    fresh_store_url,
    is_postgres,
    wait_ready,
)
from labelwise.store import add_annotator, lease_next_task, open_store
from labelwise.store.engine import utcnow
from labelwise.store.schema import (
    Annotation,
    Audit,
    Label,
    Project,
    Round,
    Sample,
    SampleTally,
    Score,
    Task,
)

LABELS = ("neg", "pos")


class RetryingPage(Page):
    """A page whose requests are sent again while their API process is down (a kill cuts the
    connection or finds nobody listening), until ``until``."""

    def __init__(self, *args: Any, until: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.until = until
        self.cut = 0  # requests cut by a kill, sent again

    def send(self, name: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        while True:
            try:
                return super().send(name, method, url, **kwargs)
            except httpx.TransportError:
                self.cut += 1
                if time.perf_counter() > self.until + 120:
                    raise
                time.sleep(0.1)


def annotate(
    base: str, k: int, stop: threading.Event, page_out: list[RetryingPage], think: float
) -> None:
    """Annotator ``k`` labels on ``base`` until ``stop`` is set, ``think`` seconds a label."""
    out: dict[str, list[float]] = {"done": [], "errors": [], "no_task": []}
    headers = {"Authorization": f"Bearer token-{k}"}
    rng = np.random.default_rng(k)
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        page = RetryingPage(client, out, PROJECT, until=float("inf"))
        page_out.append(page)
        page.sign_in()
        while not stop.is_set():
            page.tick()
            if page.task is None:
                time.sleep(0.05)
                continue
            time.sleep(think)
            page.answer(LABELS[int(rng.integers(2))])


@dataclass
class Restart:
    target: str
    seconds: float  # from the new process's start to ready


@dataclass
class Findings:
    kills: int = 0
    restarts: list[Restart] = field(default_factory=list)
    acknowledged: int = 0
    missing: list[int] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    expired_still_leased: int = 0
    expired_held_after_lease_call: int = 0
    leases_past_length: int = 0
    rounds: int = 0
    half_done_rounds: list[str] = field(default_factory=list)
    cut_requests: int = 0
    http_errors: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)  # the first refused requests
    seconds: float = 0.0

    def ready(self, kind: str) -> list[float]:
        return [r.seconds for r in self.restarts if r.target.startswith(kind)]

    @property
    def ok(self) -> bool:
        return not (
            self.missing
            or self.integrity
            or self.expired_held_after_lease_call
            or self.leases_past_length
            or self.half_done_rounds
        )

    def to_dict(self) -> dict[str, Any]:
        found = asdict(self)
        for kind in ("api", "trainer"):
            times = self.ready(kind)
            found[f"{kind}_ready_p50"] = float(np.median(times)) if times else None
            found[f"{kind}_ready_max"] = max(times) if times else None
        found["ok"] = self.ok
        return found


def check_store(
    url: str, acknowledged: list[tuple[int, int, str]], lease_seconds: float
) -> Findings:
    """The checks of the module's docstring, on the store at ``url`` (service stopped)."""
    found = Findings(acknowledged=len(acknowledged))
    store = open_store(url)
    try:
        with store.read() as session:
            rows = {
                a.id: (a.task_id, a.value)
                for a in session.execute(
                    select(Annotation.id, Annotation.task_id, Annotation.value)
                )
            }
            found.missing = [
                aid for aid, tid, label in acknowledged if rows.get(aid) != (tid, label)
            ]
            found.integrity = integrity_problems(session)
            now = utcnow()
            found.expired_still_leased = _count(session, _leased(Task.lease_expires_at < now))
            later = now + timedelta(seconds=lease_seconds + 1)
            found.leases_past_length = _count(session, _leased(Task.lease_expires_at > later))
            found.half_done_rounds, found.rounds = round_problems(session)
        # the next lease call returns every lease whose time ran out to the queue
        lease_next_task(store, PROJECT, "checker", lease_seconds)
        with store.read() as session:
            expired = _leased(Task.lease_expires_at < utcnow())
            found.expired_held_after_lease_call = _count(session, expired)
    finally:
        store.close()
    return found


def _count(session: Any, query: Any) -> int:
    return int(session.scalar(query) or 0)


def _leased(when: Any) -> Any:
    """Count of the leased tasks whose expiry meets ``when``."""
    return select(func.count()).select_from(Task).where(Task.state == "leased", when)


def integrity_problems(session: Any) -> list[str]:
    """Broken rules of the store's state (overlap 1), each as a sentence; [] when whole."""
    problems = []
    tally = {
        (s, st): n
        for s, st, n in session.execute(select(SampleTally.split, SampleTally.state, SampleTally.n))
    }
    counted = {
        (s, st): n
        for s, st, n in session.execute(
            select(Sample.split, Sample.state, func.count()).group_by(Sample.split, Sample.state)
        )
    }
    for key in set(tally) | set(counted):
        if tally.get(key, 0) != counted.get(key, 0):
            problems.append(f"tally {key}: {tally.get(key, 0)}, samples {counted.get(key, 0)}")
    live = Annotation.retracted_at.is_(None)
    per_sample = (
        select(Annotation.sample_id, func.count().label("n"))
        .where(live)
        .group_by(Annotation.sample_id)
        .subquery()
    )
    per_task = (
        select(Annotation.task_id, func.count().label("n"))
        .where(live, Annotation.task_id.is_not(None))
        .group_by(Annotation.task_id)
        .subquery()
    )
    count = select(func.count())
    rules = [
        (
            "samples answered more often than the overlap of 1",
            count.select_from(per_sample).where(per_sample.c.n > 1),
        ),
        (
            "done tasks without exactly one answer",
            count.select_from(Task)
            .outerjoin(per_task, per_task.c.task_id == Task.id)
            .where(Task.state == "done", func.coalesce(per_task.c.n, 0) != 1),
        ),
        (
            "answers whose task is not done",
            count.select_from(Annotation)
            .join(Task, Task.id == Annotation.task_id)
            .where(live, Task.state != "done"),
        ),
        (
            "labeled samples without a label",
            count.select_from(Sample)
            .outerjoin(Label, Label.sample_id == Sample.id)
            .where(Sample.state == "labeled", Label.sample_id.is_(None)),
        ),
        (
            "labels of samples not labeled",
            count.select_from(Label)
            .join(Sample, Sample.id == Label.sample_id)
            .where(Sample.state != "labeled"),
        ),
    ]
    for state, task_state in (("queued", "open"), ("in_progress", "leased")):
        has_task = select(Task.id).where(
            and_(Task.sample_id == Sample.id, Task.state == task_state)
        )
        rules.append(
            (
                f"{state} samples without a {task_state} task",
                count.where(Sample.state == state, ~has_task.exists()),
            )
        )
    for what, query in rules:
        n = _count(session, query)
        if n:
            problems.append(f"{n} {what}")
    return problems


def round_problems(session: Any) -> tuple[list[str], int]:
    """Rounds not whole: a gap in the numbers, or scores missing against the audit's count."""
    problems = []
    rounds = session.execute(
        select(Round.id, Round.number)
        .join(Project)
        .where(Project.name == PROJECT)
        .order_by(Round.number)
    ).all()
    numbers = [number for _, number in rounds]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"round numbers {numbers[:5]}... are not 1..{len(numbers)}")
    scores = dict(
        session.execute(select(Score.round_id, func.count()).group_by(Score.round_id)).all()
    )
    audited = {
        int(object_id): (detail or {}).get("scores", 0)
        for object_id, detail in session.execute(
            select(Audit.object_id, Audit.detail).where(Audit.action == "record_round")
        )
    }
    for round_id, number in rounds:
        if round_id not in audited:
            problems.append(f"round {number} has no audit row")
        elif scores.get(round_id, 0) != audited[round_id]:
            problems.append(
                f"round {number}: {scores.get(round_id, 0)} scores of {audited[round_id]}"
            )
    return problems, len(rounds)


def trainer_ready(log: Path, lines_before: int, process: Any, seconds: float = 240.0) -> float:
    """Seconds until the restarted trainer holds the project (a new ``training`` line)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        if process.poll() is not None:
            raise SystemExit(f"the trainer exited with status {process.returncode}")
        lines = log.read_text().splitlines()[lines_before:]
        if any(line.startswith("training ") for line in lines):
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise SystemExit("the restarted trainer held no project")


def run(args: argparse.Namespace) -> Findings:
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="labelwise-crash-") as tmp:
        folder = Path(tmp)
        with fresh_store_url(args.store, folder) as url:
            settings = {
                "retrain_every": args.retrain_every,
                "lease_seconds": args.lease_seconds,
                "features": "hashed",
            }
            build_store(url, folder, args.pool, args.annotators, settings)
            checker = open_store(url)
            add_annotator(checker, "checker")
            checker.close()
            apis = [
                Processes(url, 1, free_port(), folder, trainer=(i == 0)) for i in range(args.api)
            ]
            t0 = time.perf_counter()
            for service in apis:  # all at once, then each waited for
                if service.trainer:
                    service.start_worker()
                service.start_serve()
            for service in apis:
                wait_ready(service.base, service.serve)
            print(
                f"{args.api} API processes and a trainer ready in {time.perf_counter() - t0:.1f} s"
            )
            stop = threading.Event()
            pages: list[RetryingPage] = []
            threads = [
                threading.Thread(
                    target=annotate,
                    args=(apis[k % args.api].base, k, stop, pages, args.think),
                    daemon=True,
                )
                for k in range(args.annotators)
            ]
            for thread in threads:
                thread.start()
            found = Findings()
            started = time.perf_counter()
            try:
                kill_loop(apis, args, rng, found)
            finally:
                stop.set()
                for thread in threads:
                    thread.join(180)
                for service in apis:
                    service.stop()
            elapsed = time.perf_counter() - started
            acknowledged = [a for page in pages for a in page.acknowledged]
            checked = check_store(url, acknowledged, args.lease_seconds)
            checked.kills, checked.restarts = found.kills, found.restarts
            checked.seconds = elapsed
            checked.cut_requests = sum(page.cut for page in pages)
            statuses = Counter(int(s) for page in pages for s in page.out["errors"])
            checked.http_errors = {str(k): v for k, v in sorted(statuses.items())}
            checked.refused = [line for page in pages for line in page.failures][:20]
            return checked


def kill_loop(
    apis: list[Processes], args: argparse.Namespace, rng: np.random.Generator, found: Findings
) -> None:
    """``--kills`` SIGKILLs of a random process at a random moment, each restarted at once."""
    trainer = apis[0]
    targets = [f"api-{i}" for i in range(len(apis))] + ["trainer"]
    for n in range(args.kills):
        time.sleep(float(rng.uniform(0.0, args.gap)))
        target = targets[int(rng.integers(len(targets)))]
        if target == "trainer":
            assert trainer.worker is not None
            log = folder_log(trainer, "worker")
            before = len(log.read_text().splitlines())
            os.kill(trainer.worker.pid, signal.SIGKILL)
            trainer.worker.wait()
            process = trainer.start_worker()
            seconds = trainer_ready(log, before, process)
        else:
            service = apis[int(target.split("-")[1])]
            assert service.serve is not None
            os.kill(service.serve.pid, signal.SIGKILL)
            service.serve.wait()
            process = service.start_serve()
            seconds = wait_ready(service.base, process)
        found.kills += 1
        found.restarts.append(Restart(target, seconds))
        print(f"kill {n + 1}/{args.kills}: {target}, ready again in {seconds:.2f} s", flush=True)


def folder_log(service: Processes, name: str) -> Path:
    return service.log / f"{name}.log"


def report(found: Findings, args: argparse.Namespace) -> None:
    summary = found.to_dict()
    print(
        f"{found.kills} kills in {found.seconds:.0f} s ({args.api} API processes, a trainer,"
        f" {args.annotators} annotators, pool {args.pool}); load average (1 min)"
        f" {os.getloadavg()[0]:.1f}"
    )
    by = Counter(r.target.split("-")[0] for r in found.restarts)
    print(f"  killed: {dict(by)}; requests cut by a kill, sent again: {found.cut_requests}")
    for kind, what in (("api", "GET /health answers"), ("trainer", "it holds the project")):
        if summary[f"{kind}_ready_p50"] is not None:
            print(
                f"  {kind} restart to ready ({what}): p50 {summary[f'{kind}_ready_p50']:.2f} s,"
                f" max {summary[f'{kind}_ready_max']:.2f} s"
            )
    print(
        f"  acknowledged answers: {found.acknowledged}, missing from the store: {len(found.missing)}"
    )
    print(f"  integrity: {'clean' if not found.integrity else '; '.join(found.integrity)}")
    print(
        f"  leases: {found.expired_still_leased} expired still marked leased at the end,"
        f" {found.expired_held_after_lease_call} after the next lease call,"
        f" {found.leases_past_length} running past their length"
    )
    half = "; ".join(found.half_done_rounds) or "none"
    print(f"  rounds: {found.rounds}, half done: {half}")
    print(f"  HTTP errors by status: {found.http_errors or 'none'}")
    for line in found.refused[:5]:
        print(f"    {line}")
    print(f"  all checks: {'passed' if found.ok else 'FAILED'}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, metavar="URL", help="a PostgreSQL server")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--api", type=int, default=2, help="API processes")
    parser.add_argument("--annotators", type=int, default=4)
    parser.add_argument("--pool", type=int, default=20_000)
    parser.add_argument(
        "--think", type=float, default=0.2, help="seconds an annotator takes per label"
    )
    parser.add_argument("--retrain-every", type=int, default=20)
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--gap", type=float, default=2.0, help="most seconds between kills")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if not is_postgres(args.store):
        parser.error("--store must be a PostgreSQL server: one process serves a SQLite store")
    found = run(args)
    report(found, args)
    if args.json is not None:
        args.json.write_text(json.dumps(found.to_dict(), indent=2))
    return 0 if found.ok else 1


if __name__ == "__main__":
    sys.exit(main())
