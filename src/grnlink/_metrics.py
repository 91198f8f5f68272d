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
    tfs, codes = np.unique(frame["source"].to_numpy(), return_inverse=True)
    auroc, auprc, n_pos, n_neg = grouped_ranking(codes, frame["label"].to_numpy(), frame["score"].to_numpy())
    both = (n_pos > 0) & (n_neg > 0)
    return pd.DataFrame(
        {"auroc": auroc[both], "auprc": auprc[both], "n_pos": n_pos[both], "n_neg": n_neg[both]}, index=tfs[both]
    )


def grouped_ranking(
    codes: np.ndarray, label: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AUROC, average precision, positives and negatives of each group ``0 .. codes.max()`` of labelled pairs.

    The values of :func:`sklearn.metrics.roc_auc_score` (tied scores count
    half) and :func:`~sklearn.metrics.average_precision_score` (one threshold
    per distinct score) for every group at once, from one sort instead of two
    scikit-learn calls per TF (a genome-scale prior has hundreds of TFs).
    AUROC and AUPRC are NaN for a group without both classes.
    """
    codes = np.asarray(codes, dtype=np.int64)
    positive = np.asarray(label) == 1
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).all():
        raise ValueError("scores hold NaN or infinite values: a per-TF AUROC needs finite scores.")
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    n_pos = np.bincount(codes, weights=positive, minlength=n_groups).astype(np.int64)
    n_neg = np.bincount(codes, minlength=n_groups).astype(np.int64) - n_pos
    order = np.lexsort((-scores, codes))  # per group, highest score first
    code, score, pos = codes[order], scores[order], positive[order].astype(np.float64)
    # tie blocks: runs of one score within one group; each is a single threshold
    last = np.ones(len(order), dtype=bool)
    last[:-1] = (code[1:] != code[:-1]) | (score[1:] != score[:-1])
    ends = np.flatnonzero(last)
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    block_code = code[ends]
    cum_pos = np.cumsum(pos)
    block_pos = np.add.reduceat(pos, starts) if len(order) else np.zeros(0)
    block_neg = (ends - starts + 1) - block_pos
    group_first = np.searchsorted(code, np.arange(n_groups))
    before = np.concatenate([[0.0], cum_pos])[group_first]  # positives of earlier groups
    tp_end = cum_pos[ends] - before[block_code]  # positives at or above each block, within its group
    fp_end = (ends + 1 - group_first[block_code]) - tp_end
    denominator = (n_pos * n_neg).astype(np.float64)
    above = np.bincount(block_code, weights=block_neg * (tp_end - block_pos / 2), minlength=n_groups)
    precision_gain = np.bincount(block_code, weights=block_pos * tp_end / (tp_end + fp_end), minlength=n_groups)
    both = denominator > 0
    auroc = np.divide(above, denominator, out=np.full(n_groups, np.nan), where=both)
    auprc = np.divide(precision_gain, n_pos, out=np.full(n_groups, np.nan), where=both)
    return auroc, auprc, n_pos, n_neg


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
    _, codes = np.unique(np.asarray(tf), return_inverse=True)
    auroc = grouped_ranking(codes, label, scores)[0]
    return float(auroc[~np.isnan(auroc)].mean()) if (~np.isnan(auroc)).any() else float("nan")


def tf_aurocs(tf: np.ndarray, label: np.ndarray, scores: np.ndarray, n_genes: int) -> np.ndarray:
    """AUROC of each TF's pairs, indexed by TF position (length ``n_genes``); NaN for TFs without both classes.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._metrics import tf_aurocs
    >>> tf_aurocs(np.array([0, 0, 0, 2]), np.array([1, 0, 0, 1]), np.array([0.9, 0.5, 0.95, 0.1]), 3)
    array([0.5, nan, nan])
    """
    out = np.full(n_genes, np.nan)
    if len(tf):
        tfs, codes = np.unique(np.asarray(tf, dtype=np.int64), return_inverse=True)
        out[tfs] = grouped_ranking(codes, label, scores)[0]
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
