"""Shortcut controls: scores that know nothing but the training graph's degrees."""

from __future__ import annotations

import numpy as np
import pandas as pd


def degree_scores(train_edges: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Score = the TF's plus the target's number of training edges.

    A model that does not beat this control has learned which genes are hubs,
    not which genes a TF regulates.

    Parameters
    ----------
    train_edges
        Training positives (``source``, ``target``), e.g. ``split.prior``; the
        degrees are counted over them only.
    pairs
        Pairs to score (``source``, ``target``), e.g. ``split.test``.

    Returns
    -------
    One float per row of ``pairs``: the TF's out-degree plus the target's
    in-degree among ``train_edges`` (0 for a gene without training edges).

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> train = pd.DataFrame({"source": ["A", "A", "B"], "target": ["x", "y", "x"]})
    >>> pairs = pd.DataFrame({"source": ["A", "B", "C"], "target": ["x", "y", "z"]})
    >>> gl.bm.degree_scores(train, pairs).tolist()
    [4.0, 2.0, 0.0]
    """
    out_degree = train_edges["source"].astype(str).value_counts()
    in_degree = train_edges["target"].astype(str).value_counts()
    tf_part = pairs["source"].astype(str).map(out_degree).fillna(0).to_numpy(float)
    target_part = pairs["target"].astype(str).map(in_degree).fillna(0).to_numpy(float)
    return tf_part + target_part
