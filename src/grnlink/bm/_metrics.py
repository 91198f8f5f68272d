"""Ranking metrics for scored test pairs, including the per-TF (macro) view."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def per_tf_metrics(test: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """AUROC and AUPRC of each TF's test pairs (TFs with both classes only).

    Parameters
    ----------
    test
        Labelled pairs, columns ``source``, ``target``, ``label``.
    scores
        One score per row of ``test``.

    Returns
    -------
    DataFrame indexed by TF with ``auroc``, ``auprc``, ``n_pos``, ``n_neg``.
    """
    frame = test.assign(score=np.asarray(scores, dtype=np.float64))
    rows = {}
    for tf, group in frame.groupby("source", sort=True, observed=True):
        labels = group["label"].to_numpy()
        n_pos = int(labels.sum())
        if 0 < n_pos < len(labels):
            rows[tf] = {
                "auroc": roc_auc_score(labels, group["score"]),
                "auprc": average_precision_score(labels, group["score"]),
                "n_pos": n_pos,
                "n_neg": len(labels) - n_pos,
            }
    return pd.DataFrame.from_dict(rows, orient="index")


def evaluate(test: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    """Pooled AUROC/AUPRC over all test pairs and per-TF macro AUROC/AUPRC."""
    labels = test["label"].to_numpy()
    per_tf = per_tf_metrics(test, scores)
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "auprc": float(average_precision_score(labels, scores)),
        "tf_auroc": float(per_tf["auroc"].mean()),
        "tf_auprc": float(per_tf["auprc"].mean()),
        "n_test_tfs": int(len(per_tf)),
    }
