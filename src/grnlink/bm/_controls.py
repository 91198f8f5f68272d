"""Shortcut controls: scores that know nothing but the training graph's degrees."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._pairs import edge_degrees


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
    source, target = train_edges["source"].astype(str), train_edges["target"].astype(str)
    genes = pd.Index(pd.unique(pd.concat([source, target], ignore_index=True)))
    out_degree, in_degree = edge_degrees(genes.get_indexer(source), genes.get_indexer(target), len(genes))
    return _degree_of(out_degree, genes, pairs["source"]) + _degree_of(in_degree, genes, pairs["target"])


def _degree_of(degree: np.ndarray, genes: pd.Index, names: pd.Series) -> np.ndarray:
    """``degree`` of each of ``names`` by its position in ``genes``; 0 for a name not among them."""
    position = genes.get_indexer(names.astype(str))
    return np.where(position >= 0, degree[np.maximum(position, 0)], 0.0) if len(degree) else np.zeros(len(names))
