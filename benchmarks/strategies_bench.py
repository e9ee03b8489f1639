"""The acquisition-engine cases of issue 2 ("Speed and memory"), by name.

Each case pits labelwise (role ``ours``) against the peer libraries (``peer``) and a naive
reference (``reference``) on the same seeded inputs; see :mod:`benchmarks.uncertainty_bench`,
:mod:`benchmarks.diversity_bench` and :mod:`benchmarks.bayesian_bench`.
"""

from __future__ import annotations

from benchmarks.bayesian_bench import BALD, BATCHBALD
from benchmarks.case import Case
from benchmarks.diversity_bench import BADGE, CORESET
from benchmarks.uncertainty_bench import UNCERTAINTY_CASES

CASES: dict[str, Case] = {
    case.name: case for case in (*UNCERTAINTY_CASES, CORESET, BADGE, BALD, BATCHBALD)
}
