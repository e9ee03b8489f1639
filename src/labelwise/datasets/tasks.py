"""Regression and multi-label datasets that installed packages ship (nothing is downloaded).

=============  ==========  ================  ==============================================
name           task        size              source
=============  ==========  ================  ==============================================
``diabetes``   regression  442 x 10          scikit-learn ``load_diabetes`` (Efron et al. 2004)
``fair``       regression  6,366 x 8         statsmodels ``datasets.fair`` (Fair 1978), target
                                             ``affairs``
``randhie``    regression  20,190 x 9        statsmodels ``datasets.randhie`` (RAND Health
                                             Insurance Experiment), target ``mdvis``
``yeast``      multilabel  2,417 x 103, 14   MULAN yeast (Elisseeff & Weston 2001), the copy in
                           labels            the ``river`` wheel (``river/datasets/yeast.csv.gz``)
=============  ==========  ================  ==============================================
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from labelwise.errors import InvalidInputError

__all__ = ["TASK_DATASETS", "TaskDataset", "load_task_dataset"]

TaskType = Literal["regression", "multilabel"]


@dataclass(frozen=True)
class TaskDataset:
    """A regression or multi-label dataset: features and targets.

    Parameters
    ----------
    name : short name.
    task : ``"regression"`` (``y`` of shape (N,), floats) or ``"multilabel"`` (``y`` of shape
        (N, Q), 0/1).
    X : (N, d) float features.
    y : the targets.
    target_names : the target's name (regression) or each label's (multi-label).
    source : where the data comes from, for the report.
    """

    name: str
    task: TaskType
    X: NDArray[np.float64]
    y: NDArray[Any]
    target_names: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        if self.X.ndim != 2 or self.X.shape[0] != self.y.shape[0]:
            raise InvalidInputError(
                f"{self.name}: X {self.X.shape} and y {self.y.shape} do not match row for row"
            )
        if not np.isfinite(self.X).all():
            raise InvalidInputError(f"{self.name}: features contain NaN or infinite values")

    def __repr__(self) -> str:
        n, d = self.X.shape
        return f"TaskDataset({self.name!r}, task={self.task!r}, n={n}, d={d})"


def load_diabetes() -> TaskDataset:
    """scikit-learn's diabetes set: 442 patients, 10 baseline variables, disease progression."""
    from sklearn.datasets import load_diabetes as load

    bunch: Any = load()
    return TaskDataset(
        "diabetes",
        "regression",
        np.asarray(bunch.data, dtype=np.float64),
        np.asarray(bunch.target, dtype=np.float64),
        ("progression",),
        "scikit-learn load_diabetes (Efron, Hastie, Johnstone & Tibshirani 2004)",
    )


def _statsmodels(name: str, source: str) -> TaskDataset:
    try:
        import statsmodels.api as sm
    except ImportError:
        raise InvalidInputError(
            f"the {name} dataset ships with statsmodels: pip install statsmodels"
        ) from None
    loaded: Any = getattr(sm.datasets, name).load_pandas()
    frame = loaded.data
    target = str(loaded.endog_name)
    features = frame.drop(columns=[target])
    return TaskDataset(
        name,
        "regression",
        features.to_numpy(np.float64),
        frame[target].to_numpy(np.float64),
        (target,),
        source,
    )


def load_fair() -> TaskDataset:
    """statsmodels' ``fair``: 6,366 women, time spent in extramarital affairs (Fair 1978)."""
    return _statsmodels("fair", "statsmodels datasets.fair (Fair 1978, Redbook survey)")


def load_randhie() -> TaskDataset:
    """statsmodels' ``randhie``: 20,190 person-years, doctor visits (RAND HIE)."""
    return _statsmodels(
        "randhie", "statsmodels datasets.randhie (RAND Health Insurance Experiment)"
    )


def yeast_path() -> Path:
    """Where the ``river`` wheel keeps the yeast CSV (found without importing river)."""
    spec = importlib.util.find_spec("river")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInputError(
            "the yeast dataset ships inside the river wheel: pip install --no-deps river"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "yeast.csv.gz"
    if not path.is_file():
        raise InvalidInputError(f"this river installation has no {path.name} ({path})")
    return path


def load_yeast() -> TaskDataset:
    """The yeast multi-label set: 2,417 genes, 103 features, 14 functional classes."""
    import pandas as pd

    frame = pd.read_csv(yeast_path())
    labels = [c for c in frame.columns if str(c).startswith("Class")]
    features = [c for c in frame.columns if str(c).startswith("Att")]
    if len(labels) != 14 or len(features) != 103:
        raise InvalidInputError(
            f"yeast.csv.gz has {len(features)} Att and {len(labels)} Class columns, "
            "expected 103 and 14"
        )
    return TaskDataset(
        "yeast",
        "multilabel",
        frame[features].to_numpy(np.float64),
        frame[labels].to_numpy(np.int64),
        tuple(labels),
        "MULAN yeast (Elisseeff & Weston 2001), river/datasets/yeast.csv.gz",
    )


#: Every shipped regression and multi-label set: its task type and its loader.
TASK_DATASETS: dict[str, tuple[TaskType, Callable[[], TaskDataset]]] = {
    "diabetes": ("regression", load_diabetes),
    "fair": ("regression", load_fair),
    "randhie": ("regression", load_randhie),
    "yeast": ("multilabel", load_yeast),
}


def load_task_dataset(name: str, task: TaskType | None = None) -> TaskDataset:
    """Load a shipped regression or multi-label set by name, checking its task type."""
    try:
        kind, loader = TASK_DATASETS[name]
    except KeyError:
        known = ", ".join(f"{n} ({t})" for n, (t, _) in TASK_DATASETS.items())
        raise InvalidInputError(f"unknown dataset {name!r}; shipped sets: {known}") from None
    if task is not None and kind != task:
        names = ", ".join(n for n, (t, _) in TASK_DATASETS.items() if t == task)
        raise InvalidInputError(f"{name!r} is a {kind} dataset; {task} sets: {names}")
    return loader()
