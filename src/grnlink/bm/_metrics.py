"""Ranking and classification metrics for scored test pairs, including the per-TF (macro) view."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

from .._metrics import has_both_classes, per_tf_metrics
from .._validation import POSITIVE_INT, check_args


def f1_threshold(labels: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold (``score >= t`` is called an edge) with the highest F1 on these pairs.

    Parameters
    ----------
    labels
        1 (edge) or 0 (non-edge) per pair.
    scores
        One score per pair, higher meaning more likely an edge.

    Returns
    -------
    The threshold, one of ``scores``; NaN when the pairs do not hold both classes.

    Examples
    --------
    >>> import numpy as np
    >>> import grnlink as gl
    >>> gl.bm.f1_threshold(np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.3, 0.1]))
    0.7
    """
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    if not has_both_classes(labels):
        return float("nan")
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def precision_at_k(labels: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of true edges among the ``k`` highest-scoring pairs (ties broken by order, stably).

    Parameters
    ----------
    labels
        1 (edge) or 0 (non-edge) per pair.
    scores
        One score per pair.
    k
        Number of top-scoring pairs to look at (all pairs when ``k`` exceeds them).

    Returns
    -------
    The precision among the top ``k`` pairs; NaN when there are no pairs.

    Examples
    --------
    >>> import numpy as np
    >>> import grnlink as gl
    >>> gl.bm.precision_at_k(np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.7, 0.3, 0.1]), k=2)
    0.5
    """
    top = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")[: int(k)]
    return float(np.asarray(labels)[top].mean()) if len(top) else float("nan")


def evaluate(
    test: pd.DataFrame,
    scores: np.ndarray,
    *,
    val: pd.DataFrame | None = None,
    val_scores: np.ndarray | None = None,
    k: int = 100,
) -> dict[str, float]:
    """Metrics of scored test pairs; the classification threshold comes from validation pairs.

    Parameters
    ----------
    test
        Labelled test pairs (``source``, ``target``, ``label``).
    scores
        One score per test pair.
    val, val_scores
        Labelled validation pairs and their scores. The threshold for
        ``accuracy`` and ``f1`` is the one that maximises F1 on them, never on
        the test pairs; without them both are NaN.
    k
        Cut-off of ``precision_at_k``.

    Returns
    -------
    ``auroc``, ``auprc``, ``auprc_ratio`` (AUPRC over its random baseline,
    the test share of positives), ``accuracy`` and ``f1`` at the validation
    threshold, ``threshold``, ``precision_at_k``, ``epr`` (early precision
    ratio, BEELINE's: precision among the top n_pos pairs, n_pos the number of
    test positives, over the share of positives), ``tf_auroc`` and
    ``tf_auprc`` (per-TF macro averages over TFs with both classes in test),
    ``n_test_tfs``, ``n_test_pos``, ``n_test_neg``: a dict of floats (the
    counts as ints).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import grnlink as gl
    >>> test = pd.DataFrame(
    ...     {"source": list("AAAABBBB"), "target": list("wxyzwxyz"), "label": [1, 1, 0, 0, 1, 0, 0, 0]}
    ... )
    >>> scores = np.array([0.9, 0.4, 0.6, 0.1, 0.8, 0.7, 0.2, 0.3])
    >>> val = pd.DataFrame({"source": ["A", "A", "B"], "target": ["v", "u", "v"], "label": [1, 0, 0]})
    >>> metrics = gl.bm.evaluate(test, scores, val=val, val_scores=np.array([0.5, 0.2, 0.3]), k=2)
    >>> {key: round(metrics[key], 3) for key in ("auroc", "tf_auroc", "threshold", "f1", "precision_at_k")}
    {'auroc': 0.867, 'tf_auroc': 0.875, 'threshold': 0.5, 'f1': 0.571, 'precision_at_k': 1.0}
    """
    check_args(k=(k, POSITIVE_INT))
    labels = test["label"].to_numpy().astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    base_rate = n_pos / len(labels)
    auprc = float(average_precision_score(labels, scores))
    threshold = float("nan")
    if val is not None and val_scores is not None and len(val):
        threshold = f1_threshold(val["label"].to_numpy().astype(int), val_scores)
    called = scores >= threshold
    true_pos = int((called & (labels == 1)).sum())
    f1 = 2 * true_pos / (called.sum() + n_pos) if called.sum() + n_pos else 0.0
    per_tf = per_tf_metrics(test, scores)
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "auprc": auprc,
        "auprc_ratio": auprc / base_rate,
        "accuracy": float((called == (labels == 1)).mean()) if np.isfinite(threshold) else float("nan"),
        "f1": float(f1) if np.isfinite(threshold) else float("nan"),
        "threshold": threshold,
        "precision_at_k": precision_at_k(labels, scores, k),
        "epr": precision_at_k(labels, scores, n_pos) / base_rate,
        "tf_auroc": float(per_tf["auroc"].mean()),
        "tf_auprc": float(per_tf["auprc"].mean()),
        "n_test_tfs": int(len(per_tf)),
        "n_test_pos": n_pos,
        "n_test_neg": int(len(labels) - n_pos),
    }
