"""PyTorch regression and multi-label models on :class:`TorchModel`'s training loop.

:class:`TorchRegressor` trains a network with one output by mean squared error on standardised
targets; its MC Dropout passes (Gal & Ghahramani 2016) are the ``pred_samples`` of
predictive-variance sampling. :class:`TorchMultilabel` trains a sigmoid head (one logit per
label) by binary cross-entropy, binary relevance in one network; ``predict_label_proba`` feeds
the multi-label strategies. Both reuse :meth:`TorchModel.fit` through its target and loss hooks.
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray
from torch import nn
from torch.nn import functional as F

from labelwise.errors import InvalidInputError
from labelwise.models._labels import check_targets
from labelwise.models.torch_model import TorchModel

__all__ = ["TorchMultilabel", "TorchRegressor"]


class _NotClassifier(TorchModel):
    """A TorchModel for a task other than single-label classification: no class probabilities."""

    task: ClassVar[str]

    def __init__(self, module: nn.Module, **options: Any) -> None:
        """``options``: :class:`TorchModel`'s keyword arguments (epochs, lr, random_state...)."""
        super().__init__(module, (), **options)

    def _refuse(self, method: str) -> NoReturn:
        raise InvalidInputError(
            f"{type(self).__name__} is a {self.task} model: it has no {method}() (class "
            "probabilities are for classification strategies)"
        )

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        self._refuse("predict_proba")

    def sample_proba(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.float64]:
        self._refuse("sample_proba")

    def grad_embed(self, X: Any) -> NDArray[np.float64]:
        self._refuse("grad_embed")

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({type(self.module).__name__}, epochs={self.epochs}, "
            f"min_steps={self.min_steps}, random_state={self.random_state!r})"
        )


class TorchRegressor(_NotClassifier):
    """Adapter for an ``nn.Module`` regressor with one output, and MC Dropout samples.

    ``fit`` standardises the targets (``y_mean_``, ``y_scale_``, recomputed at every fit) and
    trains by mean squared error; ``predict`` undoes the scaling. ``sample_predict`` runs K
    passes with dropout on (the module needs ``nn.Dropout`` layers). Features are taken as
    given: standardise them beforehand, as for any network.

    Parameters
    ----------
    module : nn.Module
        The network, outputting shape (N, 1).
    **options :
        :class:`TorchModel`'s keyword arguments (``epochs``, ``lr``, ``min_steps``,
        ``random_state``...).

    Examples
    --------
    >>> from labelwise.models.torch_nets import mlp
    >>> X = np.linspace(-1, 1, 40)[:, None]
    >>> model = TorchRegressor(mlp(1, 1, hidden=16), min_steps=50, random_state=0)
    >>> model = model.fit(X, 3 * X[:, 0])
    >>> model.predict(X).shape, model.sample_predict(X, 5, rng=0).shape
    ((40,), (5, 40))
    """

    task: ClassVar[str] = "regression"
    supplies: ClassVar[frozenset[str]] = frozenset(
        {
            "pred_mean",
            "pred_samples",
            "pred_committee",
            "labeled_targets",
            "embeddings",
            "labeled_embeddings",
        }
    )
    _output_rule: ClassVar[str] = "a regressor needs {n} output per row: shape (N, 1)"

    y_mean_: float
    y_scale_: float

    def _encode_targets(self, y: ArrayLike, n: int) -> tuple[torch.Tensor, int]:
        targets = check_targets(y, n, "regression").astype(np.float64)
        scale = float(targets.std())
        self.y_mean_ = float(targets.mean())
        self.y_scale_ = scale if scale > 0.0 else 1.0
        standard = (targets - self.y_mean_) / self.y_scale_
        return torch.as_tensor(standard, dtype=torch.float32)[:, None], 1

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(outputs, targets.to(outputs.dtype))

    def _unscale(self, outputs: torch.Tensor) -> NDArray[np.float64]:
        return outputs.double().numpy()[..., 0] * self.y_scale_ + self.y_mean_

    def predict(self, X: Any) -> NDArray[np.float64]:
        """Predictions with the network in eval mode (dropout off), shape (N,)."""
        outputs, _ = self._forward(X)
        return self._unscale(outputs)

    def sample_predict(
        self, X: Any, n_samples: int, rng: np.random.Generator | int | None = None
    ) -> NDArray[np.float64]:
        """MC Dropout: (K, N) predictions from K passes with dropout on, all else in eval.

        The masks come from ``rng`` (default: the model's own generator), so a seed gives the
        same samples (see :meth:`TorchModel.sample_proba`).
        """
        return self._unscale(self._sample_outputs(X, n_samples, rng))


class TorchMultilabel(_NotClassifier):
    """Adapter for an ``nn.Module`` with one logit per label: a sigmoid head trained by BCE.

    ``fit`` takes a (N, Q) 0/1 indicator matrix; the module must output (N, Q) logits. A label
    constant in the labeled set is simply learnt as constant (no classifier refuses it).

    Parameters
    ----------
    module : nn.Module
        The network, outputting one logit per label.
    threshold : float
        Probability from which ``predict`` sets a label.
    **options :
        :class:`TorchModel`'s keyword arguments.

    Examples
    --------
    >>> from labelwise.models.torch_nets import mlp
    >>> X = np.eye(4)
    >>> model = TorchMultilabel(mlp(4, 2, hidden=8), min_steps=20, random_state=0)
    >>> model.fit(X, [[1, 0], [0, 1], [1, 1], [0, 0]]).predict_label_proba(X).shape
    (4, 2)
    """

    task: ClassVar[str] = "multilabel"
    supplies: ClassVar[frozenset[str]] = frozenset(
        {"label_proba", "labeled_label_sets", "embeddings", "labeled_embeddings"}
    )
    _output_rule: ClassVar[str] = "y has {n} labels: it must output one logit per label"

    n_labels_: int

    def __init__(self, module: nn.Module, *, threshold: float = 0.5, **options: Any) -> None:
        if not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold must lie in (0, 1), got {threshold!r}")
        super().__init__(module, **options)
        self.threshold = threshold

    def _encode_targets(self, y: ArrayLike, n: int) -> tuple[torch.Tensor, int]:
        Y = check_targets(y, n, "multilabel")
        self.n_labels_ = int(Y.shape[1])
        return torch.as_tensor(Y, dtype=torch.float32), self.n_labels_

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(outputs, targets.to(outputs.dtype))

    def predict_label_proba(self, X: Any) -> NDArray[np.float64]:
        """The probability that each label applies, ``sigmoid(logits)``, shape (N, Q)."""
        logits, _ = self._forward(X)
        return torch.sigmoid(logits.double()).numpy()

    def predict(self, X: Any) -> NDArray[np.int64]:
        """The predicted label sets: (N, Q) 0/1, 1 where the probability reaches ``threshold``."""
        return (self.predict_label_proba(X) >= self.threshold).astype(np.int64)
