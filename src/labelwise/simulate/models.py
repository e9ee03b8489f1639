"""The models a simulation can train, by name, each built for one seed.

- ``logreg``: logistic regression (L2, C=1) on standardised features. The scaler is fitted on
  the pool's features (no labels; the test split is never part of the pool), as a pool-based
  learner sees every pool item's features from the start. ``{"standardize": "labeled"}`` in
  ``params`` fits it on the labeled set at every round instead (labelwise before issue 8's
  image runs): with a few dozen labeled images, near-constant pixels get a tiny scale, pool
  items land far outside the training range and margin then picks outliers (on Fashion-MNIST
  margin fell behind random, 1.59x its labels to 95%). ``{"warm_start": True}`` starts each
  round's lbfgs from the previous round's solution (the same convex problem, so the same
  optimum up to the solver's tolerance, in a fraction of the iterations).
- ``rf``: a random forest of 200 trees.
- ``mlp``: a one-hidden-layer PyTorch network with dropout (MC Dropout for BALD and friends).
- ``cnn``: the Gal et al. (2017) MNIST CNN, for 28 x 28 images, set up as their Keras code:
  Glorot-uniform weights and zero biases, and ``weight_decay_per_label=3.5`` in ``params`` gives
  their ``l2(3.5 / N)`` penalty on the dense layer's kernel only (``decay_params``).
- ``kirsch_cnn``: the MNIST network of Kirsch, van Amersfoort & Gal (2019, BatchBALD), for
  28 x 28 images: conv 32 5x5 -> dropout2d -> max-pool 2 -> ReLU -> conv 64 5x5 -> dropout2d ->
  max-pool 2 -> ReLU -> dense 128 -> dropout -> ReLU -> dense, dropout 0.5 throughout (their
  ``BayesianNet``), Adam at PyTorch's defaults, batch 64.
- ``linear_head``: a logistic regression (C=3 by default) for sentence embeddings, fed as
  they are. Chosen on Rotten Tomatoes' unit-norm MiniLM embeddings (coordinates ~0.05), where a
  small C is far too strong: 5-fold CV on 200 labels gave C=0.1 0.56 (the majority class is
  0.58), C=1 0.677, C=3 0.682, C=10 0.680 (``benchmarks/label_efficiency.py --choose-c``).
  Pass ``{"C": ...}`` to choose another.

PyTorch is imported only when a PyTorch model is asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import BaseEstimator, TransformerMixin

from labelwise.errors import InvalidInputError
from labelwise.models import Model


def make_model(
    name: str,
    n_classes: int,
    n_features: int,
    seed: int,
    *,
    image_shape: tuple[int, ...] | None = None,
    device: str = "cpu",
    params: dict[str, Any] | None = None,
    pool_features: NDArray[Any] | None = None,
) -> Model:
    """Build the untrained model ``name`` for a label space of ``n_classes`` classes.

    ``params`` override the defaults (``C`` / ``warm_start`` / ``tol`` for the linear models,
    ``standardize`` for ``logreg``, ``n_estimators`` for the forest, ``epochs`` / ``lr`` /
    ``weight_decay`` / ``batch_size`` for PyTorch models). ``pool_features`` (N, d), the pool's
    features without labels, are what ``logreg`` standardises on.
    """
    params = dict(params or {})
    classes = np.arange(n_classes)
    if name in ("logreg", "rf", "linear_head"):
        return _sklearn_model(name, classes, seed, params, pool_features)
    if name in ("mlp", "cnn", "kirsch_cnn"):
        return _torch_model(name, classes, n_features, seed, image_shape, device, params)
    raise InvalidInputError(
        f"unknown model {name!r}: logreg, rf, mlp, cnn, kirsch_cnn or linear_head"
    )


def _sklearn_model(
    name: str,
    classes: np.ndarray[Any, Any],
    seed: int,
    params: dict[str, Any],
    pool_features: NDArray[Any] | None,
) -> Model:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from labelwise.models.sklearn import SklearnModel

    estimator: Any
    warm_start = False
    if name == "logreg":
        scaler = _logreg_scaler(params.pop("standardize", "pool"), pool_features)
        params.setdefault("max_iter", 2000)
        warm_start = bool(params.get("warm_start", False))
        estimator = make_pipeline(scaler, LogisticRegression(**params))
    elif name == "linear_head":
        params.setdefault("C", 3.0)
        params.setdefault("max_iter", 2000)
        warm_start = bool(params.get("warm_start", False))
        estimator = LogisticRegression(**params)
    else:
        params.setdefault("n_estimators", 200)
        estimator = RandomForestClassifier(random_state=seed, n_jobs=1, **params)
    # The adapter keeps its fitted clone between rounds only when warm-starting, so that the
    # estimator's own ``warm_start`` has a previous solution to start from.
    return SklearnModel(estimator, classes=classes, warm_start=warm_start)


def _logreg_scaler(how: str, pool_features: NDArray[Any] | None) -> Any:
    from sklearn.preprocessing import StandardScaler

    if how == "labeled":
        return StandardScaler()
    if how != "pool":
        raise InvalidInputError(f"standardize must be 'pool' or 'labeled', got {how!r}")
    if pool_features is None:
        raise InvalidInputError(
            "logreg standardises on the pool's features: pass pool_features, or "
            "params={'standardize': 'labeled'} to standardise on the labeled set"
        )
    return PoolStandardizer.from_pool(pool_features)


class PoolStandardizer(TransformerMixin, BaseEstimator):
    """``(X - mean) / scale`` with the pool's mean and standard deviation, fixed at build.

    A scikit-learn transformer whose ``fit`` learns nothing, so a pipeline refitted on a
    growing labeled set keeps one feature space (and a warm start stays exact). Features
    constant over the pool keep scale 1, as in ``StandardScaler``.

    Examples
    --------
    >>> z = PoolStandardizer.from_pool(np.array([[0.0, 1.0], [2.0, 1.0]]))
    >>> z.transform(np.array([[1.0, 3.0]])).tolist()
    [[0.0, 2.0]]
    """

    def __init__(self, mean: NDArray[np.float64], scale: NDArray[np.float64]):
        self.mean = mean
        self.scale = scale

    @classmethod
    def from_pool(cls, X: NDArray[Any]) -> PoolStandardizer:
        """The standardiser of the rows of ``X`` (N, d)."""
        X = np.asarray(X, dtype=np.float64)
        scale = X.std(axis=0)
        scale[scale == 0.0] = 1.0
        return cls(X.mean(axis=0), scale)

    def fit(self, X: Any, y: Any = None) -> PoolStandardizer:
        """Nothing to learn: the statistics are the pool's."""
        return self

    def transform(self, X: Any) -> NDArray[np.float64]:
        """Standardised features (n, d)."""
        return (np.asarray(X, dtype=np.float64) - self.mean) / self.scale


def _torch_model(
    name: str,
    classes: np.ndarray[Any, Any],
    n_features: int,
    seed: int,
    image_shape: tuple[int, ...] | None,
    device: str,
    params: dict[str, Any],
) -> Model:
    from labelwise.models.torch_model import TorchModel
    from labelwise.models.torch_nets import GAL_CNN_DECAYED, gal_cnn, mlp

    decay_per_label = params.pop("weight_decay_per_label", None)

    if name in ("cnn", "kirsch_cnn") and (
        image_shape is None or tuple(image_shape[-2:]) != (28, 28)
    ):
        raise InvalidInputError(
            f"the {name} model is an MNIST network from a paper: it needs 28 x 28 images "
            f"(this dataset has image shape {image_shape}); use mlp instead"
        )
    if name == "kirsch_cnn":
        module = kirsch_cnn(len(classes))
        params.setdefault("epochs", 50)
        params.setdefault("batch_size", 64)
    elif name == "cnn":
        module = gal_cnn(len(classes))
        params.setdefault("epochs", 50)
        params.setdefault("batch_size", 128)
        params.setdefault("init", "glorot_uniform")
        params.setdefault("decay_params", GAL_CNN_DECAYED)
        params.setdefault("min_steps", 0)  # Gal et al.'s fixed 50 passes, as reproduced
    else:
        module = mlp(n_features, len(classes), hidden=int(params.pop("hidden", 128)))
        params.setdefault("epochs", 50)
        params.setdefault("batch_size", 64)
        params.setdefault("weight_decay", 1e-4)
    model = TorchModel(
        module, classes, warm_start=False, device=device, random_state=seed, **params
    )
    if decay_per_label is not None:
        return LabelScaledDecay(model, float(decay_per_label))
    return model


def kirsch_cnn(n_classes: int = 10) -> Any:
    """The MNIST ``BayesianNet`` of Kirsch, van Amersfoort & Gal (2019), outputting logits.

    ``conv 32 5x5 -> Dropout2d -> max-pool 2 -> ReLU -> conv 64 5x5 -> Dropout2d -> max-pool 2
    -> ReLU -> dense 128 -> Dropout -> ReLU -> dense n_classes``, dropout probability 0.5 (the
    layer order of their ``mnist_model.py``: dropout before pooling). Inputs are flat (N, 784).
    """
    from torch import nn

    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 32, kernel_size=5),
        nn.Dropout2d(0.5),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=5),
        nn.Dropout2d(0.5),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 128),
        nn.Dropout(0.5),
        nn.ReLU(),
        nn.Linear(128, n_classes),
    )


class LabelScaledDecay:
    """A PyTorch model with an L2 penalty ``lambda = scale / N`` for N labeled items at each fit.

    Gal et al. (2017) regularise with ``l2(c / N)``, ``c = 3.5`` (the prior length-scale term of
    a Bayesian neural network), so regularisation shrinks as labels grow. Keras's ``l2(lambda)``
    adds ``lambda * sum(w**2)`` to the loss, a gradient of ``2 * lambda * w``: Adam's
    ``weight_decay`` is therefore set to ``2 * scale / N``. Every other call goes to the wrapped
    model.
    """

    def __init__(self, model: Any, scale: float):
        self.model = model
        self.scale = scale

    def fit(self, X: Any, y: Any) -> LabelScaledDecay:
        """Set the weight decay for ``len(y)`` labels, then train."""
        self.model.weight_decay = 2.0 * self.scale / max(len(y), 1)
        self.model.fit(X, y)
        self.classes_ = self.model.classes_
        return self

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities of the wrapped model."""
        return self.model.predict_proba(X)

    def sample_proba(self, X: Any, n_samples: int, rng: Any = None) -> Any:
        """MC Dropout samples of the wrapped model, shape (K, N, C)."""
        return self.model.sample_proba(X, n_samples, rng)

    def embed(self, X: Any) -> Any:
        """Penultimate-layer embeddings of the wrapped model."""
        return self.model.embed(X)

    def grad_embed(self, X: Any) -> Any:
        """BADGE gradient embeddings of the wrapped model."""
        return self.model.grad_embed(X)
