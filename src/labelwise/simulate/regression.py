"""Simulated active learning for regression: metrics, models, and the run's defaults.

Metrics per round: RMSE, MAE and R2 on the test split; R2 is the curve's metric (targets are
fractions of the full-data R2). The runs themselves go through
:func:`labelwise.simulate.task_run.run_task_simulation`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from labelwise.errors import InvalidInputError
from labelwise.models.regression import SklearnRegressor

__all__ = ["REGRESSION_MODELS", "make_regressor", "regression_metrics"]

RegressionModel = Literal["bayes_ridge", "gp", "forest"]
REGRESSION_MODELS: tuple[str, ...] = ("bayes_ridge", "gp", "forest")
#: The metric a regression curve follows (higher is better).
PRIMARY_METRIC = "r2"


def regression_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """RMSE, MAE and R2 (coefficient of determination) of predictions.

    ``rmse = sqrt(mean (y - f)^2)``, ``mae = mean |y - f|``,
    ``r2 = 1 - sum (y - f)^2 / sum (y - mean y)^2`` (1 for a perfect fit of a constant target,
    0 otherwise, as scikit-learn).

    >>> regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])["mae"]
    0.3333333333333333
    """
    y = np.asarray(y_true, dtype=np.float64)
    f = np.asarray(y_pred, dtype=np.float64)
    if y.ndim != 1 or y.shape != f.shape or y.size == 0:
        raise InvalidInputError(f"y_true {y.shape} and y_pred {f.shape} must be equal 1-D shapes")
    residual = y - f
    sse = float(residual @ residual)
    sst = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - sse / sst if sst > 0 else float(sse == 0.0)
    return {
        "rmse": float(np.sqrt(sse / y.size)),
        "mae": float(np.abs(residual).mean()),
        "r2": r2,
    }


def make_regressor(name: str, seed: int, n_bootstrap: int = 5) -> SklearnRegressor:
    """A fresh regression model for one seed.

    ``bayes_ridge``: Bayesian ridge regression (linear; its predictive std serves ``gp_std``);
    ``gp``: a Gaussian process with a scaled RBF kernel plus noise, ``normalize_y``;
    ``forest``: 100 regression trees. Each with ``n_bootstrap`` bootstrap members.
    """
    estimator: Any
    if name == "bayes_ridge":
        from sklearn.linear_model import BayesianRidge

        estimator = BayesianRidge()
    elif name == "gp":
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        kernel = ConstantKernel() * RBF(length_scale=3.0) + WhiteKernel()
        estimator = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)
    elif name == "forest":
        from sklearn.ensemble import RandomForestRegressor

        estimator = RandomForestRegressor(100, random_state=seed, n_jobs=1)
    else:
        raise InvalidInputError(
            f"unknown regression model {name!r}; known: {', '.join(REGRESSION_MODELS)}"
        )
    return SklearnRegressor(estimator, n_bootstrap=n_bootstrap, random_state=seed)
