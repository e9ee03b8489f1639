"""Simulated active learning: the known labels play the oracle, strategies x seeds run in
parallel, and the report says how many labels each strategy saves versus random."""

from labelwise.simulate.config import SimulationConfig
from labelwise.simulate.curves import bootstrap_ratio, curve_area, labels_to_target
from labelwise.simulate.metrics import evaluate, expected_calibration_error
from labelwise.simulate.report import write_results
from labelwise.simulate.runner import SimulationResult, run_simulation
from labelwise.simulate.summary import summarize

__all__ = [
    "SimulationConfig",
    "SimulationResult",
    "bootstrap_ratio",
    "curve_area",
    "evaluate",
    "expected_calibration_error",
    "labels_to_target",
    "run_simulation",
    "summarize",
    "write_results",
]
