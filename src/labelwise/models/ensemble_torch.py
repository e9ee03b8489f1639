"""Deep ensembles (Lakshminarayanan et al. 2017; Beluch et al. 2018 for active learning).

M networks from one factory, each trained from its own initial weights on the whole labeled set;
their spread stands in for the posterior: ``committee_proba`` / ``sample_proba`` give the members.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from torch import nn

from labelwise.errors import InvalidInputError
from labelwise.models._members import MemberPredictions
from labelwise.models.torch_model import TorchModel
from labelwise.validation import check_rng


class DeepEnsemble(MemberPredictions):
    """An ensemble of ``n_members`` :class:`TorchModel` members built by ``module_factory``.

    Parameters
    ----------
    module_factory : callable returning a fresh ``nn.Module`` that outputs logits
    n_members : int
        Ensemble size M (at least 2).
    classes, epochs, batch_size, lr, weight_decay, warm_start, device :
        Passed to every member (see :class:`TorchModel`).
    random_state : int, numpy Generator or None
        Seeds every member's own ``random_state`` (initial weights, shuffling), so a seed gives the
        same ensemble; with None each member keeps the factory's initial weights.
    """

    members_: list[TorchModel]
    classes_: NDArray[Any]

    def __init__(
        self,
        module_factory: Callable[[], nn.Module],
        n_members: int = 5,
        *,
        classes: ArrayLike,
        epochs: int = 10,
        batch_size: int = 64,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        warm_start: bool = True,
        device: str = "cpu",
        random_state: np.random.Generator | int | None = None,
    ):
        if isinstance(n_members, bool) or not isinstance(n_members, int) or n_members < 2:
            raise InvalidInputError(f"n_members must be an int of at least 2, got {n_members!r}")
        self.module_factory = module_factory
        self.n_members = n_members
        self.classes = classes
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.warm_start = warm_start
        self.device = device
        self.random_state = random_state

    def _new_members(self) -> list[TorchModel]:
        seeds: list[int | None] = [None] * self.n_members
        if self.random_state is not None:
            rng = check_rng(self.random_state)
            seeds = [int(s) for s in rng.integers(2**62, size=self.n_members)]
        return [
            TorchModel(
                self.module_factory(),
                self.classes,
                epochs=self.epochs,
                batch_size=self.batch_size,
                lr=self.lr,
                weight_decay=self.weight_decay,
                warm_start=self.warm_start,
                device=self.device,
                random_state=seed,
            )
            for seed in seeds
        ]

    def fit(self, X: Any, y: ArrayLike) -> DeepEnsemble:
        """Train every member on ``(X, y)`` (members keep their weights with ``warm_start``)."""
        members = self.members_ if hasattr(self, "members_") else self._new_members()
        for member in members:
            member.fit(X, y)
        self.members_ = members
        self.classes_ = members[0].classes_
        return self
