"""Calibrated edge probabilities: a raw model score mapped to P(edge) on labelled validation pairs.

Raw scores are on each model's own scale (ensemble-averaged sigmoids, SVM
margins, absolute correlations, tree importances). :func:`fit_calibration`
fits a monotone map from score to probability on pairs the model did not
train on, with scikit-learn (Platt's sigmoid through ``LogisticRegression``, or
``IsotonicRegression``), and keeps it as plain numbers for ``adata.uns``;
:func:`calibrated` applies it. Probabilities from different models and fits
are then on one scale: among validation-like pairs, a probability of 0.8
means that 80% are prior edges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from .._metrics import has_both_classes
from .._validation import InputError

CALIBRATION_METHODS = ("platt", "isotonic")


def fit_calibration(scores: np.ndarray, labels: np.ndarray, method: str = "platt", *, on: str) -> dict[str, Any]:
    """Fit a score -> probability map on labelled pairs; a dict of plain values for ``adata.uns``.

    Parameters
    ----------
    scores
        Raw scores of the labelled pairs.
    labels
        1 (edge) or 0 (non-edge) per pair; both classes must occur.
    method
        ``"platt"``: a logistic curve in the score, fitted with Platt's smoothed
        targets (``(n_pos + 1) / (n_pos + 2)`` and ``1 / (n_neg + 2)``), so that
        it stays strictly between 0 and 1 and keeps the order of the scores.
        ``"isotonic"``: a non-decreasing step function, interpolated between
        steps and clipped outside them; it can reach 0 and 1 and ties scores.
    on
        Which pairs they are (``"validation"`` or ``"training"``), kept for the record.

    Returns
    -------
    ``method``, ``on``, the pairs' ``scores`` and ``labels`` (for
    :func:`grnlink.pl.calibration`), and the fitted map: ``coef`` and
    ``intercept`` (Platt) or ``x`` and ``y`` (the isotonic steps).

    Examples
    --------
    >>> import numpy as np
    >>> cal = fit_calibration(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1]), "isotonic", on="validation")
    >>> calibrated(cal, np.array([0.15, 0.85])).tolist()
    [0.0, 1.0]
    """
    if method not in CALIBRATION_METHODS:
        raise InputError(f"calibration={method!r} is not known; use one of {CALIBRATION_METHODS}.")
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    n_pos = int(labels.sum())
    if not has_both_classes(labels):
        raise ValueError("calibration needs positive and negative pairs")
    entry: dict[str, Any] = {"method": method, "on": on, "scores": scores, "labels": labels}
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, labels)
        entry["x"] = np.asarray(iso.X_thresholds_, dtype=np.float64)
        entry["y"] = np.asarray(iso.y_thresholds_, dtype=np.float64)
        return entry
    # Platt: each pair enters once as an edge with weight t and once as a non-edge with weight 1 - t
    n_neg = len(labels) - n_pos
    target = np.where(labels == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    both = np.concatenate([scores, scores])[:, None]
    platt = LogisticRegression(C=np.inf, max_iter=1000).fit(
        both, np.repeat([1, 0], len(scores)), sample_weight=np.concatenate([target, 1.0 - target])
    )
    entry["coef"] = float(platt.coef_[0, 0])
    entry["intercept"] = float(platt.intercept_[0])
    return entry


def calibrated(calibration: dict[str, Any], scores: np.ndarray) -> np.ndarray:
    """Probabilities of ``scores`` under a map made by :func:`fit_calibration` (float64).

    Examples
    --------
    >>> import numpy as np
    >>> cal = fit_calibration(np.array([-2.0, -1.0, 0.5, 1.0, 2.0]), np.array([0, 0, 1, 0, 1]), on="validation")
    >>> probs = calibrated(cal, np.array([-3.0, 0.0, 3.0]))
    >>> bool(0 < probs[0] < probs[1] < probs[2] < 1)
    True
    """
    scores = np.asarray(scores, dtype=np.float64)
    if str(calibration["method"]) == "isotonic":
        return np.interp(scores, np.asarray(calibration["x"]), np.asarray(calibration["y"]))
    return expit(float(calibration["coef"]) * scores + float(calibration["intercept"]))
