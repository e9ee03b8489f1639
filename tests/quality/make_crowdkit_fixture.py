"""Write crowdkit_fixture.json: crowd-kit's MajorityVote and DawidSkene outputs on fixed data.

Run it in a throwaway virtual environment, never in labelwise's own (crowd-kit pulls in
transformers)::

    python3 -m venv /tmp/ck && /tmp/ck/bin/pip install crowd-kit
    /tmp/ck/bin/python tests/quality/make_crowdkit_fixture.py

It needs only crowd-kit, pandas and numpy, and reads nothing of labelwise, so the comparison in
test_crowdkit_parity.py is between two independent implementations. The datasets: the Dawid &
Skene (1979) patients (dawid_skene_1979.csv, beside this file) and a synthetic crowd drawn here
with a fixed seed, stored in the fixture so that the test needs no generator.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from crowdkit.aggregation import DawidSkene, MajorityVote

HERE = Path(__file__).resolve().parent
#: Run crowd-kit's EM for a fixed number of iterations (its tol=-inf never stops early), so that
#: both implementations are compared at EM's fixed point. crowd-kit's own stopping rule (a rise of
#: the evidence lower bound below tol) halts after 4 iterations on the 1979 patients.
N_ITER, TOL = 1000, -np.inf


def synthetic_crowd(seed: int = 7) -> tuple[np.ndarray, int]:
    """120 items, 3 classes, 7 annotators with different confusion matrices, 3-4 labels per item."""
    rng = np.random.default_rng(seed)
    n_items, n_classes, n_annotators = 120, 3, 7
    truth = rng.choice(n_classes, size=n_items, p=[0.5, 0.3, 0.2])
    accuracy = np.array([0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4])
    rows = []
    for i in range(n_items):
        for k in rng.choice(n_annotators, size=rng.integers(3, 5), replace=False):
            # Annotator k is right with probability accuracy[k], else confuses towards class+1.
            noise = rng.dirichlet(np.ones(n_classes) + 3 * (np.arange(n_classes) == 1))
            noise[truth[i]] = 0.0
            p = (1 - accuracy[k]) * noise / noise.sum()
            p[truth[i]] = accuracy[k]
            rows.append((i, int(k), int(rng.choice(n_classes, p=p))))
    return np.array(rows), n_classes


def run_crowdkit(annotations: np.ndarray, n_classes: int) -> dict[str, object]:
    df = pd.DataFrame(annotations, columns=["task", "worker", "label"])
    n_items = int(annotations[:, 0].max()) + 1
    n_annotators = int(annotations[:, 1].max()) + 1
    mv = MajorityVote().fit(df)
    ds = DawidSkene(n_iter=N_ITER, tol=TOL).fit(df)
    probas = ds.probas_.reindex(index=range(n_items), columns=range(n_classes), fill_value=0.0)
    # errors_: rows (worker, observed label), columns true label -> confusion[k, true, said].
    errors = ds.errors_.reindex(
        index=pd.MultiIndex.from_product([range(n_annotators), range(n_classes)]),
        columns=range(n_classes),
        fill_value=0.0,
    )
    confusion = errors.to_numpy().reshape(n_annotators, n_classes, n_classes).transpose(0, 2, 1)
    mv_probas = mv.probas_.reindex(index=range(n_items), columns=range(n_classes), fill_value=0)
    return {
        "n_classes": n_classes,
        "majority_vote": {
            "labels": mv.labels_.reindex(range(n_items)).astype(int).tolist(),
            "probas": np.round(mv_probas.to_numpy(), 12).tolist(),
        },
        "dawid_skene": {
            "n_iter": len(ds.loss_history_),
            "labels": ds.labels_.reindex(range(n_items)).astype(int).tolist(),
            "posterior": np.round(probas.to_numpy(), 10).tolist(),
            "priors": np.round(ds.priors_.reindex(range(n_classes)).to_numpy(), 10).tolist(),
            "confusion": np.round(confusion, 10).tolist(),
        },
    }


def main() -> None:
    patients = np.loadtxt(HERE / "dawid_skene_1979.csv", delimiter=",", skiprows=4, dtype=int)
    crowd, crowd_classes = synthetic_crowd()
    fixture = {
        "crowd_kit_version": version("crowd-kit"),
        "settings": {"n_iter": N_ITER, "tol": str(TOL)},
        "dawid_skene_1979": run_crowdkit(patients, 4),
        "synthetic": {"annotations": crowd.tolist(), **run_crowdkit(crowd, crowd_classes)},
    }
    out = HERE / "crowdkit_fixture.json"
    out.write_text(json.dumps(fixture, separators=(",", ":")) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
