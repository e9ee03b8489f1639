"""``auto``: learn which acquisition works on the data at hand while the loop runs.

Active learning by learning (Hsu & Lin 2015, "Active Learning by Learning", AAAI), for batches:
a bandit over a portfolio of registry strategies (the arms) and a uniform ``random`` arm. Each
round the bandit draws one arm with probability ``p_k`` and that arm chooses the whole batch.

Reward (unbiased, importance-weighted accuracy). Before arm ``k`` is drawn every non-random
arm's batch ``S_k`` is computed, so every open pool item ``i`` (``U`` of them) enters the batch
with the known probability ::

    pi_i = p_random * b / U + sum_{k != random} p_k [i in S_k]          (> 0: the random arm)

The model that selects predicts a class for each item it picks; the items are then labeled and
the Horvitz-Thompson estimate ::

    r = (1 / U) * sum_{i in batch} [prediction_i == label_i] / pi_i

is an unbiased estimate of that model's accuracy over the open pool (:func:`iw_accuracy`), like
Hsu & Lin's IW-ACC but on items the model was not trained on. It is credited to the arm whose
batch trained that model (the previous round's arm): the better its labels, the more accurate
the next model.

Bandit: EXP3 (Auer et al. 2002) with a probability floor ``gamma / K`` on every arm, so the
random arm keeps every item's ``pi_i`` positive and no arm is abandoned on a few noisy rounds:
``p = (1 - gamma) softmax(log_w) + gamma / K``. Since ``pi_i >= (gamma / K) b / U``, the
estimate is at most ``K / gamma``; EXP3 receives ``r gamma / K`` (in [0, 1], still unbiased up
to that constant factor) and the credited arm's log-weight grows by ``eta * r gamma / K / p_k``.
Random starts at its floor (its log-weight ``log(0.01)`` below the others'): it is the safety
arm, which the bandit raises only if its labels earn more.

With batches of ten and accuracies that differ by a few points between arms, one round's
reward is noisy; over tens of rounds ``auto`` stays close to its starting mixture, so the
default portfolio holds only arms that do well on their own (margin, BADGE).

The engine drives the feedback (:class:`LearnsFromLabels`): after ``select`` it keeps the chosen
rows; when it next fits, it hands ``update`` the positions of those rows that came back labeled
and their labels as columns of the selecting model's classes. The estimate is unbiased when the
whole batch comes back (the library and ``simulate``); where only part of it does (the service
queues a ranking deeper than one batch and annotators label its head), it covers the items that
came back.

Use it by name like any strategy: ``ActiveLearner(model, "auto")``, ``labelwise simulate
--strategies auto,random``, ``labelwise project set P --strategy auto``; the round's
``RoundResult.strategy`` reads ``auto:<arm>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelwise.errors import InvalidInputError
from labelwise.strategies.base import (
    PoolInputs,
    Selection,
    Strategy,
    get_strategy,
    register_strategy,
)

__all__ = [
    "DEFAULT_PORTFOLIO",
    "Auto",
    "LearnsFromLabels",
    "exp3_probabilities",
    "inclusion_probabilities",
    "iw_accuracy",
]

#: Arms besides ``random``: uncertainty, diversity, and both at once.
DEFAULT_PORTFOLIO: tuple[str, ...] = ("margin", "badge")
#: Random's starting weight relative to the other arms' (it starts at its floor).
RANDOM_START = 0.01


@runtime_checkable
class LearnsFromLabels(Protocol):
    """A strategy that learns from the labels its picks received (the engine calls ``update``).

    ``last_choice`` names what chose the last batch (``auto``'s arm), or None.
    """

    last_choice: str | None

    def update(self, returned: NDArray[np.intp], label_columns: NDArray[np.intp]) -> None:
        """Labels came back for the last selection.

        Parameters
        ----------
        returned : positions in the last ``Selection.indices`` of the items now labeled.
        label_columns : each one's label as a column of the selecting model's ``proba``
            (-1: a class that model did not know).
        """


def exp3_probabilities(log_weights: ArrayLike, gamma: float) -> NDArray[np.float64]:
    """EXP3's arm probabilities: ``(1 - gamma) softmax(log_weights) + gamma / K``.

    Every arm keeps at least ``gamma / K``.

    Examples
    --------
    >>> exp3_probabilities([0.0, 0.0], 0.2).tolist()
    [0.5, 0.5]
    """
    w = np.asarray(log_weights, dtype=np.float64)
    e = np.exp(w - w.max())
    return (1.0 - gamma) * e / e.sum() + gamma / w.size


def inclusion_probabilities(
    arm_probs: ArrayLike,
    arm_sets: Sequence[NDArray[np.intp] | None],
    batch_size: int,
    open_mask: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Probability that each pool item enters the batch, given the arms' computed batches.

    Parameters
    ----------
    arm_probs : (K,) probability of drawing each arm.
    arm_sets : per arm, the pool indices it would pick; None for a uniform random arm, which
        draws ``batch_size`` of the open items afresh.
    batch_size : b.
    open_mask : (N,) True for items that may be picked (U of them).

    Returns
    -------
    (N,) ``pi_i = sum_k p_k P(i in S_k)``; 0 for items that are not open.
    """
    p = np.asarray(arm_probs, dtype=np.float64)
    pi = np.zeros(open_mask.size)
    n_open = int(open_mask.sum())
    for prob, chosen in zip(p, arm_sets, strict=True):
        if chosen is None:
            pi[open_mask] += prob * batch_size / n_open
        else:
            pi[np.asarray(chosen, dtype=np.intp)] += prob
    return pi


def iw_accuracy(correct: ArrayLike, pi: ArrayLike, n_open: int) -> float:
    """Horvitz-Thompson estimate of a model's accuracy over the ``n_open`` open items.

    ``correct[j]`` says whether the model predicted the label of the j-th labeled pick and
    ``pi[j]`` is the probability that pick had of entering the batch. Unbiased:
    ``E[sum_j correct_j / pi_j] = sum_{i open} correct_i``.

    Examples
    --------
    >>> iw_accuracy([True, False], [0.5, 0.5], 4)
    0.5
    """
    c = np.asarray(correct, dtype=np.float64)
    w = np.asarray(pi, dtype=np.float64)
    if c.shape != w.shape or (w <= 0).any():
        raise InvalidInputError("iw_accuracy needs one positive probability per pick")
    return float(np.sum(c / w) / n_open)


@dataclass(frozen=True)
class _Pending:
    """The last batch: what it needs to be scored once its labels come back."""

    predicted: NDArray[np.intp]  # the selecting model's class column per pick
    pi: NDArray[np.float64]  # each pick's inclusion probability
    n_open: int
    credit: tuple[int, float] | None  # (arm, its draw probability) whose labels trained the model
    arm: int
    arm_prob: float


@register_strategy
class Auto(Strategy):
    """Bandit over a portfolio of strategies plus ``random`` (see the module docstring).

    Parameters
    ----------
    portfolio : registry names of the arms besides ``random``; each must read only what
        ``auto`` declares (``proba``, ``embeddings``, ``labeled_embeddings``, and
        ``grad_embeddings`` where the model has them).
    gamma : exploration: every arm is drawn with probability at least ``gamma / K``.
    eta : EXP3 learning rate (default ``gamma / K``).

    Attributes
    ----------
    choices : the arm that chose each batch so far, in order.
    rewards : (arm, reward) pairs credited so far.
    last_choice : the last batch's arm.
    """

    name: ClassVar[str] = "auto"
    needs = frozenset({"proba", "embeddings", "labeled_embeddings"})
    wants = frozenset({"grad_embeddings"})

    def __init__(
        self,
        portfolio: Sequence[str] = DEFAULT_PORTFOLIO,
        gamma: float = 0.3,
        eta: float | None = None,
    ) -> None:
        arms = [name for name in portfolio if name != "random"]
        if not arms or len(set(arms)) != len(arms) or "auto" in arms:
            raise InvalidInputError(
                f"auto's portfolio must name distinct strategies other than auto, got {portfolio!r}"
            )
        self._arms: list[Strategy] = [get_strategy(name) for name in arms]
        for arm in self._arms:
            extra = set(arm.needs) - self.needs - self.wants
            if extra:
                raise InvalidInputError(
                    f"auto cannot run {arm.name!r}: it needs {', '.join(sorted(extra))}; "
                    "auto's arms may read only proba, embeddings and labeled_embeddings"
                )
        if not 0.0 < gamma <= 1.0:
            raise InvalidInputError(f"gamma must be in (0, 1], got {gamma!r}")
        self.portfolio = tuple(arms)
        self.gamma = float(gamma)
        self.arm_names: tuple[str, ...] = (*self.portfolio, "random")
        self.eta = float(gamma / len(self.arm_names) if eta is None else eta)
        self.log_weights = np.zeros(len(self.arm_names))
        self.log_weights[-1] = np.log(RANDOM_START)
        self.choices: list[str] = []
        self.rewards: list[tuple[str, float]] = []
        self.last_choice: str | None = None
        self._pending: _Pending | None = None
        self._credit: tuple[int, float] | None = None

    @property
    def probabilities(self) -> NDArray[np.float64]:
        """The current probability of drawing each arm (``arm_names`` order)."""
        return exp3_probabilities(self.log_weights, self.gamma)

    def _select(
        self,
        inputs: PoolInputs,
        batch_size: int,
        rng: np.random.Generator,
        exclude: NDArray[np.bool_],
    ) -> Selection:
        p = self.probabilities
        open_mask = ~exclude
        picks = [arm.select(inputs, batch_size, rng) for arm in self._arms]
        pi = inclusion_probabilities(p, [s.indices for s in picks] + [None], batch_size, open_mask)
        k = int(rng.choice(len(p), p=p))
        if k < len(picks):
            chosen = picks[k]
        else:
            idx = np.asarray(
                rng.choice(np.flatnonzero(open_mask), size=batch_size, replace=False),
                dtype=np.intp,
            )
            chosen = Selection(idx, np.zeros(idx.size))
        assert inputs.proba is not None  # declared in needs, checked by select
        predicted = np.asarray(inputs.proba)[chosen.indices].argmax(axis=1)
        self._pending = _Pending(
            predicted.astype(np.intp),
            pi[chosen.indices],
            int(open_mask.sum()),
            self._credit,
            k,
            float(p[k]),
        )
        self.last_choice = self.arm_names[k]
        self.choices.append(self.last_choice)
        return chosen

    def update(self, returned: NDArray[np.intp], label_columns: NDArray[np.intp]) -> None:
        """Score the last batch's labels (see :class:`LearnsFromLabels`) and credit an arm."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        returned = np.asarray(returned, dtype=np.intp)
        labels = np.asarray(label_columns, dtype=np.intp)
        if returned.shape != labels.shape:
            raise InvalidInputError("update needs one label per returned position")
        if returned.size and pending.credit is not None:
            arm, prob = pending.credit
            reward = iw_accuracy(
                pending.predicted[returned] == labels, pending.pi[returned], pending.n_open
            )
            self.rewards.append((self.arm_names[arm], reward))
            scaled = reward * self.gamma / len(self.arm_names)  # in [0, 1]: pi >= floor b / U
            self.log_weights[arm] += self.eta * scaled / prob
            self.log_weights -= self.log_weights.max()
        if returned.size:
            self._credit = (pending.arm, pending.arm_prob)  # its labels train the next model

    def __repr__(self) -> str:
        return f"Auto(portfolio={self.portfolio!r}, gamma={self.gamma!r}, eta={self.eta!r})"
