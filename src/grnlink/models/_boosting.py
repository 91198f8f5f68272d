"""Gradient-boosted trees whose fitted state is plain numpy, evaluated without scikit-learn.

scikit-learn's :class:`~sklearn.ensemble.HistGradientBoostingClassifier`
learns the trees; :func:`tree_state` copies each tree's split features,
thresholds, children and leaf values into flat arrays, and
:func:`boosted_logits` walks them with numpy. A model read back from an h5ad
file then scores exactly as the fitted one, without pickling an estimator.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


def fit_boosted_trees(
    x: np.ndarray,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None,
    seed: int,
    n_trees: int,
    learning_rate: float,
    max_leaf_nodes: int,
    min_samples_leaf: int,
    l2_regularization: float,
) -> dict[str, np.ndarray]:
    """Fit a binary boosted-tree classifier (no internal early stopping) and return its state."""
    model = HistGradientBoostingClassifier(
        max_iter=n_trees,
        learning_rate=learning_rate,
        max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf,
        l2_regularization=l2_regularization,
        early_stopping=False,
        random_state=seed,
    )
    model.fit(np.asarray(x, dtype=np.float64), np.asarray(y).astype(np.int64), sample_weight=sample_weight)
    return tree_state(model)


def tree_state(model: HistGradientBoostingClassifier) -> dict[str, np.ndarray]:
    """Flat arrays of a fitted binary classifier's trees: node fields concatenated, ``offsets`` per tree."""
    nodes = [predictors[0].nodes for predictors in model._predictors]
    if any(node["is_categorical"].any() for node in nodes):
        raise ValueError("categorical splits are not supported")
    sizes = np.array([len(n) for n in nodes], dtype=np.int64)
    merged = np.concatenate(nodes)
    return {
        "baseline": np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)[:1],
        "offsets": np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64),
        "feature": merged["feature_idx"].astype(np.int64),
        "threshold": merged["num_threshold"].astype(np.float64),
        "missing_left": merged["missing_go_to_left"].astype(bool),
        "left": merged["left"].astype(np.int64),
        "right": merged["right"].astype(np.int64),
        "is_leaf": merged["is_leaf"].astype(bool),
        "value": merged["value"].astype(np.float64),
    }


def boosted_logits(state: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """Raw scores (log-odds) of the trees in ``state`` for the rows of ``x``: baseline plus every tree's leaf."""
    x = np.asarray(x, dtype=np.float64)
    feature, threshold = np.asarray(state["feature"]), np.asarray(state["threshold"])
    left, right = np.asarray(state["left"]), np.asarray(state["right"])
    is_leaf, value = np.asarray(state["is_leaf"], dtype=bool), np.asarray(state["value"])
    missing_left = np.asarray(state["missing_left"], dtype=bool)
    out = np.full(len(x), float(np.asarray(state["baseline"]).reshape(-1)[0]))
    rows = np.arange(len(x))
    for offset in np.asarray(state["offsets"], dtype=np.int64):
        node = np.full(len(x), offset)
        active = ~is_leaf[node]
        while active.any():
            at = node[active]
            values = x[rows[active], feature[at]]
            go_left = np.where(np.isnan(values), missing_left[at], values <= threshold[at])
            node[active] = offset + np.where(go_left, left[at], right[at])
            active = ~is_leaf[node]
        out += value[node]
    return out
