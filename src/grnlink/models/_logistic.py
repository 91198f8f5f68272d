"""The standardised logistic regression that ``stack`` (its meta-learner) and ``degree_adjusted`` (its parts) fit.

Columns are standardised to zero mean and unit variance (scikit-learn's
:class:`~sklearn.preprocessing.StandardScaler`: a constant column keeps scale
1), then an L2-regularised logistic regression (``C=1``, lbfgs) is fitted.
The fitted model is a dict of numpy arrays, ``mean``, ``scale``, ``coef`` and
``intercept``, which a model stores in its state as it is.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler


def standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and scales (float64) that standardise ``x``; a constant column gets scale 1."""
    scaler = StandardScaler().fit(x)
    return scaler.mean_.astype(np.float64), scaler.scale_.astype(np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and intercept (float64) of an L2 logistic regression (``C=1``) of ``y`` on the columns of ``x``."""
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(x, y)
    return model.coef_.ravel().astype(np.float64), model.intercept_.astype(np.float64)


def fit_scaled_logistic(x: np.ndarray, y: np.ndarray, seed: int, *, standardise: bool = True) -> dict[str, np.ndarray]:
    """:func:`fit_logistic` on the (optionally) standardised columns of ``x``, as a dict of arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink.models._logistic import fit_scaled_logistic, scaled_logits
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = fit_scaled_logistic(x, np.array([0, 0, 1, 1]), seed=0)
    >>> bool(scaled_logits(model, x)[3] > 0 > scaled_logits(model, x)[0])
    True
    """
    if standardise:
        mean, scale = standardisation(x)
    else:
        mean, scale = np.zeros(x.shape[1]), np.ones(x.shape[1])
    coef, intercept = fit_logistic((x - mean) / scale, y, seed)
    return {"mean": mean, "scale": scale, "coef": coef, "intercept": intercept}


def scaled_logits(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Log-odds of the rows of ``x`` under a model of :func:`fit_scaled_logistic`."""
    return ((x - model["mean"]) / model["scale"]) @ model["coef"] + float(model["intercept"][0])
