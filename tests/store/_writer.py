"""A writer process for the reliability tests: prints an ack line after each commit."""

from __future__ import annotations

import sys

from labelwise.store import (
    import_samples,
    lease_next_task,
    list_samples,
    open_store,
    record_round,
    submit_annotation,
)


def main(mode: str, url: str, *args: str) -> None:
    store = open_store(url)
    if mode == "import":
        print("start", flush=True)
        import_samples(store, args[0], "big", labels=["neg", "pos"])
        print("done", flush=True)
    elif mode == "annotate":
        annotator, limit = args[0], int(args[1])
        for _ in range(limit):
            lease = lease_next_task(store, "p", annotator)
            if lease is None:
                break
            record = submit_annotation(store, lease.task_id, annotator, "pos")
            print(f"ack {record.id}", flush=True)
    elif mode == "rounds":
        pool = [s.id for s in list_samples(store, "p", split="pool")]
        for i in range(int(args[0])):
            info = record_round(
                store, "p", "entropy", sample_ids=pool, scores=[float(i)] * len(pool)
            )
            print(f"ack {info.number}", flush=True)
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
