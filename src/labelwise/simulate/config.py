"""The configuration of a simulated active-learning experiment, from Python or a TOML file."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from labelwise.errors import InvalidInputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ModelName = Literal["logreg", "rf", "mlp", "cnn", "kirsch_cnn", "linear_head"]
InitialStrategy = Literal["random", "balanced"]
MODEL_NAMES: tuple[str, ...] = get_args(ModelName)
#: Fractions of full-data accuracy that every report covers.
REPORT_TARGETS: tuple[float, ...] = (0.95, 0.98, 0.99)


@dataclass(frozen=True)
class SimulationConfig:
    """One experiment: a dataset, a model, strategies x seeds, a label budget.

    Parameters
    ----------
    dataset : a name of :func:`labelwise.datasets.available_datasets` or a data file's path.
    model : ``logreg`` (logistic regression on standardised features), ``rf`` (random
        forest), ``mlp`` / ``cnn`` / ``kirsch_cnn`` (PyTorch, MC Dropout), ``linear_head`` (a
        strongly regularised logistic regression for sentence embeddings).
    strategies : registry names (``random`` is added as the baseline when missing, unless
        ``baseline`` is false).
    seeds : the seeds, one run each per strategy; an int ``n`` means ``0..n-1``, a tuple names
        them (``(3, 4)`` adds two seeds to an earlier run of ``0..2``). A seed fixes
        the test split, the initial labeled set, the model's initialisation and the strategy's
        random choices, so the same seed gives the same numbers.
    initial : size of the initial labeled set.
    batch_size : labels acquired per round.
    budget : total labels at the end, the initial set included.
    initial_strategy : ``random`` or ``balanced`` (equal counts per class, as Gal et al. 2017).
    test_size : the fraction held out for testing when the dataset has no fixed test split.
    pool_size : keep this many pool items (a seed-dependent random subset), ``None`` = all.
    candidates : score only a random subset of this many unlabeled items per round
        (Gal et al. 2017 score 2,000), ``None`` = every unlabeled item.
    target : the headline fraction of full-data accuracy (the report also covers 95/98/99%).
    full_data : train the same model on the whole pool per seed to measure full-data accuracy.
    workers : parallel processes over strategies x seeds.
    n_mc_samples : stochastic passes for ``samples`` (MC Dropout) where a strategy needs them.
    model_params : extra keyword arguments for the model (``{"C": 0.1}``, ``{"epochs": 50}``).
    stop_accuracy : end a curve at the first round whose test accuracy reaches this, leaving
        the rest of its budget unspent (``None``: always run to the budget). For benchmarks that
        only need labels-to-a-level, such as Gal et al.'s labels to 5% test error; the curves
        then end at different label counts, so their areas are not comparable.
    diversity : ``"auto"`` (batches of 50 or more from a pure uncertainty strategy are
        diversified, :mod:`labelwise.loop.diversity`), ``"on"`` or ``"off"``.
    baseline : add ``random`` to the strategies when it is missing (the report's ratios need
        it). ``False`` runs only the named strategies, for adding seeds or strategies to a
        run whose random curves exist already; the report then has no ratios to random.
    """

    dataset: str = "digits"
    model: ModelName = "logreg"
    strategies: tuple[str, ...] = ("random", "margin")
    seeds: tuple[int, ...] = (0, 1, 2)
    initial: int = 20
    batch_size: int = 10
    budget: int = 200
    initial_strategy: InitialStrategy = "random"
    test_size: float = 0.25
    pool_size: int | None = None
    candidates: int | None = None
    target: float = 0.95
    full_data: bool = True
    workers: int = 1
    n_mc_samples: int = 20
    device: str = "cpu"
    data_dir: str | None = None
    label_column: str = "label"
    text_features: Literal["minilm", "tfidf"] = "minilm"
    model_params: dict[str, Any] = field(default_factory=dict, hash=False)
    stop_accuracy: float | None = None
    baseline: bool = True
    diversity: Literal["auto", "on", "off"] = "auto"

    def __post_init__(self) -> None:
        seeds: Any = self.seeds
        if isinstance(seeds, int):
            object.__setattr__(self, "seeds", tuple(range(seeds)))
        else:
            object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))
        strategies = (
            tuple(s.strip() for s in self.strategies.split(","))
            if isinstance(self.strategies, str)
            else tuple(self.strategies)
        )
        if self.baseline and "random" not in strategies:
            strategies = ("random", *strategies)
        object.__setattr__(self, "strategies", tuple(dict.fromkeys(strategies)))
        self._validate()

    def _validate(self) -> None:
        problems = []
        if self.model not in MODEL_NAMES:
            problems.append(f"model must be one of {MODEL_NAMES}, got {self.model!r}")
        if self.initial_strategy not in ("random", "balanced"):
            problems.append(
                f"initial_strategy must be random or balanced: {self.initial_strategy!r}"
            )
        if not self.seeds:
            problems.append(
                "give at least one seed (a count n runs seeds 0..n-1; name one seed as a "
                "tuple, (7,), or on the command line as 7-7)"
            )
        elif len(set(self.seeds)) < len(self.seeds) or min(self.seeds) < 0:
            problems.append(f"seeds must be distinct non-negative ints, got {list(self.seeds)}")
        if not self.strategies:
            problems.append("give at least one strategy")
        if self.initial < 1:
            problems.append(f"initial must be at least 1, got {self.initial}")
        if self.batch_size < 1:
            problems.append(f"batch_size must be at least 1, got {self.batch_size}")
        if self.budget <= self.initial:
            problems.append(f"budget ({self.budget}) must exceed the initial set ({self.initial})")
        if not 0.0 < self.test_size < 1.0:
            problems.append(f"test_size must lie in (0, 1), got {self.test_size}")
        if not 0.0 < self.target <= 1.0:
            problems.append(f"target must be a fraction in (0, 1], got {self.target}")
        if self.stop_accuracy is not None and not 0.0 < self.stop_accuracy <= 1.0:
            problems.append(f"stop_accuracy must lie in (0, 1], got {self.stop_accuracy}")
        if self.diversity not in ("auto", "on", "off"):
            problems.append(f"diversity must be auto, on or off, got {self.diversity!r}")
        if self.workers < 1:
            problems.append(f"workers must be at least 1, got {self.workers}")
        if self.candidates is not None and self.candidates < self.batch_size:
            problems.append("candidates must be at least batch_size")
        if problems:
            raise InvalidInputError("invalid simulation config: " + "; ".join(problems))

    @property
    def targets(self) -> tuple[float, ...]:
        """Every fraction of full-data accuracy in the report, ascending."""
        return tuple(sorted({*REPORT_TARGETS, self.target}))

    def with_overrides(self, **changes: Any) -> SimulationConfig:
        """A copy with the given fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_dict(self) -> dict[str, Any]:
        """Plain values, as written to ``summary.json`` and read back by :meth:`from_dict`."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["seeds"] = list(self.seeds)
        out["strategies"] = list(self.strategies)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SimulationConfig:
        """Build from a mapping; unknown keys are refused with their names."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidInputError(
                f"unknown simulation setting(s) {unknown}; known: {sorted(known)}"
            )
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | Path) -> SimulationConfig:
        """Read a TOML file: the settings at top level or in a ``[simulation]`` table.

        Examples
        --------
        A file for the run of ``labelwise simulate --dataset digits --seeds 5``::

            [simulation]
            dataset = "digits"
            model = "logreg"
            strategies = ["random", "margin", "entropy"]
            seeds = 5
            initial = 20
            batch_size = 10
            budget = 300
        """
        try:
            data = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInputError(f"cannot read the config file {path}: {exc}") from None
        values = data.get("simulation", data)
        values = {k.replace("-", "_"): v for k, v in values.items() if k != "out"}
        return cls.from_dict(values)


def parse_seeds(text: str) -> int | tuple[int, ...]:
    """Seeds from text: ``5`` (seeds 0..4), ``5,6,7`` or ``5-9`` (``--seeds`` of the CLI).

    >>> parse_seeds("3"), parse_seeds("3-5"), parse_seeds("7,9")
    (3, (3, 4, 5), (7, 9))
    """
    text = text.strip()
    try:
        if "," in text:
            return tuple(int(part) for part in text.split(","))
        if "-" in text.lstrip("-"):
            first, last = (int(part) for part in text.split("-", 1))
            if last < first:
                raise InvalidInputError(f"--seeds {text}: the range ends before it starts")
            return tuple(range(first, last + 1))
        return int(text)
    except ValueError:
        raise InvalidInputError(
            f"--seeds takes a count (5), a list (5,6,7) or a range (5-9), got {text!r}"
        ) from None
