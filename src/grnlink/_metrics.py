"""Ranking metrics of labelled pairs, pooled and per TF: the one implementation that ``bm``, ``tl`` and ``models`` use.

A base module (it imports nothing of grnlink): the models compute their
training diagnostics with it, :func:`grnlink.tl.grn_tune` its objective and
:mod:`grnlink.bm` its reports, so every per-TF AUROC in grnlink is the same
number for the same pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score


def has_both_classes(labels: np.ndarray) -> bool:
    """Whether 0/1 ``labels`` hold at least one edge (1) and one non-edge (0).

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._metrics import has_both_classes
    >>> has_both_classes(np.array([1, 0, 0])), has_both_classes(np.array([1.0, 1.0])), has_both_classes([])
    (True, False, False)
    """
    labels = np.asarray(labels)
    return bool(0 < labels.sum() < len(labels))


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
    DataFrame indexed by TF (sorted) with ``auroc``, ``auprc``, ``n_pos``, ``n_neg``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from grnlink._metrics import per_tf_metrics
    >>> test = pd.DataFrame({"source": list("AAABB"), "target": list("vwxyz"), "label": [1, 0, 0, 0, 0]})
    >>> per_tf_metrics(test, np.array([0.9, 0.5, 0.1, 0.3, 0.2]))
       auroc  auprc  n_pos  n_neg
    A    1.0    1.0      1      2
    """
    frame = test.assign(score=np.asarray(scores, dtype=np.float64))
    rows = {}
    for tf, group in frame.groupby("source", sort=True, observed=True):
        labels = group["label"].to_numpy()
        n_pos = int(labels.sum())
        if has_both_classes(labels):
            rows[tf] = {
                "auroc": roc_auc_score(labels, group["score"]),
                "auprc": average_precision_score(labels, group["score"]),
                "n_pos": n_pos,
                "n_neg": len(labels) - n_pos,
            }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["auroc", "auprc", "n_pos", "n_neg"])


def mean_tf_auroc(tf: np.ndarray, label: np.ndarray, scores: np.ndarray) -> float:
    """Mean over TFs with both classes of the AUROC of each TF's pairs (the per-TF AUROC); NaN when none has both.

    ``tf`` (TF of each pair, any labels), ``label`` (1 edge, 0 non-edge) and
    ``scores`` are aligned arrays.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._metrics import mean_tf_auroc
    >>> mean_tf_auroc(np.array([0, 0, 1, 1, 2]), np.array([1, 0, 0, 1, 1]), np.array([0.9, 0.1, 0.8, 0.2, 0.5]))
    0.5
    """
    pairs = pd.DataFrame({"source": np.asarray(tf), "label": np.asarray(label)})
    return float(per_tf_metrics(pairs, scores)["auroc"].mean())


def tf_aurocs(tf: np.ndarray, label: np.ndarray, scores: np.ndarray, n_genes: int) -> np.ndarray:
    """AUROC of each TF's pairs, indexed by TF position (length ``n_genes``); NaN for TFs without both classes.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._metrics import tf_aurocs
    >>> tf_aurocs(np.array([0, 0, 0, 2]), np.array([1, 0, 0, 1]), np.array([0.9, 0.5, 0.95, 0.1]), 3)
    array([0.5, nan, nan])
    """
    pairs = pd.DataFrame({"source": np.asarray(tf), "label": np.asarray(label)})
    per_tf = per_tf_metrics(pairs, scores)["auroc"]
    out = np.full(n_genes, np.nan)
    out[per_tf.index.to_numpy(dtype=np.int64)] = per_tf.to_numpy(dtype=np.float64)
    return out


def ranking_metrics(label: np.ndarray, scores: np.ndarray, *, tf: np.ndarray | None = None) -> dict[str, float]:
    """Pooled ``auroc`` and ``auprc`` of labelled pairs, and ``tf_auroc`` (:func:`mean_tf_auroc`) when ``tf`` is given.

    Every value is NaN unless the pairs hold both an edge and a non-edge.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._metrics import ranking_metrics
    >>> ranking_metrics(np.array([1, 0, 0]), np.array([0.2, 0.9, 0.1]))
    {'auroc': 0.5, 'auprc': 0.5}
    >>> ranking_metrics(np.array([0, 0]), np.array([0.2, 0.9]), tf=np.array([0, 0]))
    {'auroc': nan, 'auprc': nan, 'tf_auroc': nan}
    """
    label = np.asarray(label)
    both = has_both_classes(label)
    metrics = {
        "auroc": float(roc_auc_score(label, scores)) if both else float("nan"),
        "auprc": float(average_precision_score(label, scores)) if both else float("nan"),
    }
    if tf is not None:
        metrics["tf_auroc"] = mean_tf_auroc(tf, label, scores) if both else float("nan")
    return metrics
