"""``labelwise select``: the command writes the selection and can queue it in the store."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from labelwise.cli import main
from labelwise.models.sklearn import SklearnModel
from labelwise.scale import select_from_shards, write_shards
from labelwise.store import import_samples, init_store, list_samples


def run(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code in (0, None)


def test_select_with_a_saved_model_writes_ids_in_rank_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 4)).astype(np.float32)
    model = SklearnModel(LogisticRegression()).fit(x[:200], (x[:200, 0] > 0).astype(int))
    joblib.dump(model, tmp_path / "model.joblib")
    write_shards(x, None, tmp_path / "pool", rows_per_shard=500)
    out = tmp_path / "selected.parquet"
    run(
        [
            "select", "--pool", str(tmp_path / "pool" / "*.parquet"),
            "--model", str(tmp_path / "model.joblib"), "--strategy", "margin",
            "--batch-size", "25", "--out", str(out),
        ]
    )  # fmt: skip
    table = pq.read_table(out).to_pydict()
    expected = select_from_shards(tmp_path / "pool", "margin", 25, model=model)
    assert table["id"] == expected.ids.tolist() and table["rank"] == list(range(25))


def test_a_bad_shard_fails_with_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    write_shards(np.full((30, 2), 0.5), None, tmp_path, rows_per_shard=10)
    (tmp_path / "shard-00001.parquet").write_bytes(b"broken")
    out = tmp_path / "selected.parquet"
    with pytest.raises(SystemExit) as exit_info:
        main(["select", "--pool", str(tmp_path), "--batch-size", "3", "--out", str(out)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.replace("\n", "")  # rich wraps long lines
    assert "shard-00001.parquet" in err and not out.exists()


def test_project_queues_the_batch_and_skips_what_is_not_unlabeled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lw.db'}"
    store = init_store(url)
    csv = tmp_path / "items.csv"
    csv.write_text("id,text\n" + "\n".join(f"x{i},item {i}" for i in range(40)) + "\n")
    import_samples(store, csv, "demo", labels=["a", "b"])
    sample_ids = np.array([s.id for s in list_samples(store, "demo")])
    proba = np.random.default_rng(1).dirichlet([1.0, 1.0], size=40)
    write_shards(proba, sample_ids, tmp_path / "pool", rows_per_shard=15)
    argv = ["select", "--pool", str(tmp_path / "pool"), "--strategy", "entropy"]
    argv += ["--project", "demo", "--store", url]
    run([*argv, "--batch-size", "5", "--out", str(tmp_path / "r1.parquet")])
    run([*argv, "--batch-size", "5", "--out", str(tmp_path / "r2.parquet")])
    first = pq.read_table(tmp_path / "r1.parquet").column("id").to_pylist()
    second = pq.read_table(tmp_path / "r2.parquet").column("id").to_pylist()
    queued = {s.id for s in list_samples(store, "demo", state="queued")}
    assert queued == set(first) | set(second) and not set(first) & set(second)
