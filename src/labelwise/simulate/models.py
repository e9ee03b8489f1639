"""The models a simulation can train, by name, each built for one seed.

- ``logreg``: logistic regression (L2, C=1) on features standardised on the labeled set.
- ``rf``: a random forest of 200 trees.
- ``mlp``: a one-hidden-layer PyTorch network with dropout (MC Dropout for BALD and friends).
- ``cnn``: the Gal et al. (2017) MNIST CNN, for 28 x 28 images (``weight_decay_per_label=3.5``
  in ``params`` gives their ``3.5 / N`` weight decay).
- ``linear_head``: a strongly regularised logistic regression (C=0.1 by default) for sentence
  embeddings, where few labels and 384 dimensions make C=1 overfit.

PyTorch is imported only when a PyTorch model is asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
) -> Model:
    """Build the untrained model ``name`` for a label space of ``n_classes`` classes.

    ``params`` override the defaults (``C`` for the linear models, ``n_estimators`` for the
    forest, ``epochs`` / ``lr`` / ``weight_decay`` / ``batch_size`` for PyTorch models).
    """
    params = dict(params or {})
    classes = np.arange(n_classes)
    if name in ("logreg", "rf", "linear_head"):
        return _sklearn_model(name, classes, seed, params)
    if name in ("mlp", "cnn"):
        return _torch_model(name, classes, n_features, seed, image_shape, device, params)
    raise InvalidInputError(f"unknown model {name!r}: logreg, rf, mlp, cnn or linear_head")


def _sklearn_model(
    name: str, classes: np.ndarray[Any, Any], seed: int, params: dict[str, Any]
) -> Model:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from labelwise.models.sklearn import SklearnModel

    estimator: Any
    if name == "logreg":
        params.setdefault("max_iter", 2000)
        estimator = make_pipeline(StandardScaler(), LogisticRegression(**params))
    elif name == "linear_head":
        params.setdefault("C", 0.1)
        params.setdefault("max_iter", 2000)
        estimator = LogisticRegression(**params)
    else:
        params.setdefault("n_estimators", 200)
        estimator = RandomForestClassifier(random_state=seed, n_jobs=1, **params)
    return SklearnModel(estimator, classes=classes)


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
    from labelwise.models.torch_nets import gal_cnn, mlp

    decay_per_label = params.pop("weight_decay_per_label", None)

    if name == "cnn":
        if image_shape is None or tuple(image_shape[-2:]) != (28, 28):
            raise InvalidInputError(
                "the cnn model is the Gal et al. 2017 MNIST network: it needs 28 x 28 images "
                f"(this dataset has image shape {image_shape}); use mlp instead"
            )
        module = gal_cnn(len(classes))
        params.setdefault("epochs", 50)
        params.setdefault("batch_size", 128)
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


class LabelScaledDecay:
    """A PyTorch model whose weight decay is ``scale / N`` for N labeled items at each fit.

    Gal et al. (2017) set the weight decay to ``3.5 / N`` (their code's ``c / N``), the prior
    length-scale term of a Bayesian neural network, so regularisation shrinks as labels grow.
    Every other call goes to the wrapped model.
    """

    def __init__(self, model: Any, scale: float):
        self.model = model
        self.scale = scale

    def fit(self, X: Any, y: Any) -> LabelScaledDecay:
        """Set the weight decay for ``len(y)`` labels, then train."""
        self.model.weight_decay = self.scale / max(len(y), 1)
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
