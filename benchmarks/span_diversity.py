"""Span-F1 learning curves on WNUT-16 of random, ``mnlp`` and ``mnlp_diverse`` (issue 22).

The protocol of :func:`labelwise.simulate.spans.simulate_spans` (a CRF tagger per seed, 30% of
the corpus held out, a 1,000-tweet pool, 30 seed tweets then 8 rounds of 30), one seed and
strategy at a time, each curve appended to ``OUT`` as a JSON line as soon as it is done (so a
run stopped early keeps what it measured):

    nice -n 10 .venv/bin/python -m benchmarks.span_diversity benchmarks/results/spans-diversity-wnut16/curves.jsonl
"""

from __future__ import annotations

import json
import sys
import time

from labelwise.simulate.spans import curve_area, simulate_spans
from labelwise.spans.corpora import load_ner_corpus
from labelwise.spans.crf import CRFTagger

STRATEGIES = ("random", "mnlp", "mnlp_diverse")


def main(out: str, seeds: int = 3) -> None:
    documents = load_ner_corpus("wnut16")
    for seed in range(seeds):
        for strategy in STRATEGIES:
            started = time.time()
            [curve] = simulate_spans(
                documents, CRFTagger, strategy, seeds=(seed,), initial=30, batch_size=30,
                rounds=8, test_fraction=0.3, max_pool=1000,
            )  # fmt: skip
            row = {
                "seed": seed,
                "strategy": strategy,
                "auc": curve_area(curve),
                "n_labeled": curve.n_labeled,
                "span_f1": curve.span_f1,
                "seconds": round(time.time() - started, 1),
            }
            with open(out, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
