"""``gl.tl.grn_network``: the predicted network as decoupler expects it (signed, unique rows)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._io import expression
from .._pairs import pair_keys
from .._settings import info
from .._validation import (
    POSITIVE_INT,
    InputError,
    check_args,
    check_finite,
    check_tfs,
    number_in,
    one_of,
    optional,
)
from ._features import cell_subsample
from ._predict import DEFAULT_CHUNK_PAIRS, _var_positions, check_score_args, group_tables, score_edges
from ._store import FittedGRN, load_fitted

SIGNS = ("prior", "correlation")
_EDGE_BLOCK = 4096  # edges whose correlations are computed at once


def grn_network(
    adata: AnnData,
    *,
    key: str = "grn",
    top_k: int = 100,
    tfs: str | Sequence[str] | None = None,
    groupby: str | None = None,
    rank_by: Literal["score", "specificity"] = "score",
    min_precision: float | None = None,
    prior_coverage: float | None = None,
    sign: Literal["prior", "correlation"] = "prior",
    chunk_size: int = DEFAULT_CHUNK_PAIRS,
    min_score: float | None = None,
) -> pd.DataFrame:
    """The ``top_k`` best targets of every TF as a signed network for decoupler (``dc.mt.ulm`` & co.).

    Every TF of the fitted prior (or of ``tfs``) is scored against every gene
    with the stored model (whatever :func:`grnlink.tl.grn_predict` wrote last
    plays no part), and each TF keeps its ``top_k`` best targets by
    ``rank_by``. Each (source, target) pair appears once (per group).

    ``weight`` = sign x confidence. The confidence is the calibrated
    probability of :func:`grnlink.tl.grn_predict`, in (0, 1] and on the same
    scale for every model, so networks of different models can be swapped in
    one decoupler call. The sign is the mode of regulation: with
    ``sign="prior"``, a prior edge takes the sign of its prior weight
    (DoRothEA's +1 activation / -1 repression) and any other edge the sign of
    the Pearson correlation between TF and target across cells; with
    ``sign="correlation"``, every edge takes the correlation's sign. The
    correlation uses the expression the model was fitted on (its ``layer``
    and cell subsample; with ``groupby``, the group's cells); a zero
    correlation, or a prior weight of 0, counts as activation.

    With ``groupby``, the network is built once per group of that
    ``adata.obs`` column: the model, fitted once on all cells, scores every
    pair with the expression-derived features of the group's cells only (the
    fit's cell subsample, at least 10 cells per group). A TF detected in fewer
    than 5% of a group's cells is left out of that group's network: it cannot
    regulate where it is not expressed. What that changes
    depends on the model: ``pcc`` correlates within the group;
    ``degree_adjusted`` recomputes its co-expression, TF activity and gene
    statistics from the group's cells; ``sctransnet`` pools over the group's
    cells; ``stack`` does so through its bases. Their graph, identity and
    popularity parts, and the other feature groups (cell-type means,
    embeddings), are the fit's. Models whose gene features are fixed at fit
    time (the neural models reading expression components, ``gnt``,
    ``genie3``) raise :class:`~grnlink.InputError`. The per-group tables go to
    ``adata.uns[key]["group_network"]`` (one table, not a copy of the model
    per group; ``adata.uns[key]["group_by"]`` names the column).
    ``probability`` and ``precision`` use the fit's calibration and
    estimator: they are the fit's scale applied to the group's scores.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` (and the genes it was fitted on).
    key
        ``adata.uns`` key of the fitted model.
    top_k
        Targets kept per TF (the best by ``rank_by``).
    tfs
        TFs to build the network for (default: the prior's TFs); a string is one TF.
    groupby
        ``adata.obs`` column: one network per group (above), in one long table with a ``group`` column.
    rank_by
        ``"score"`` keeps each TF's highest-scoring targets; ``"specificity"``
        the targets whose score stands out most from the same target's scores
        with the other TFs (fewer hub genes that every TF lists).
    min_precision
        Keep only edges whose ``precision`` is at least this value in [0, 1].
    prior_coverage
        Overrides the fraction of the true network the prior is assumed to hold
        (:func:`grnlink.tl.grn_fit`) for ``precision``.
    sign
        Where an edge's sign comes from: ``"prior"`` or ``"correlation"`` (above).
    chunk_size
        Pairs scored at once.
    min_score
        Deprecated (filtered on the calibrated probability, while the column
        named ``score`` is the raw score); use ``min_precision``. Still works,
        with a FutureWarning, until the next release.

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (strings), ``weight``
    (signed confidence), ``score`` (the model's raw score), ``probability``,
    ``precision``, ``specificity`` (see :func:`grnlink.tl.grn_predict`) and
    ``in_prior``, and first a ``group`` column with ``groupby``; sorted by
    group, TF, then best first by ``rank_by``. ``adata`` is not modified,
    except ``adata.uns[key]["group_network"]`` and ``["group_by"]`` with ``groupby``.

    Examples
    --------
    >>> import decoupler as dc
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=400, n_celltypes=4, seed=0)
    >>> prior = adata.uns["true_network"]
    >>> gl.tl.grn_fit(adata, prior, model="two_tower", groupby="cell_type", n_ensemble=1, max_epochs=5)
    >>> net = gl.tl.grn_network(adata, top_k=20)
    >>> net.columns.tolist()
    ['source', 'target', 'weight', 'score', 'probability', 'precision', 'specificity', 'in_prior']
    >>> bool(net["weight"].abs().between(0, 1, inclusive="right").all())
    True
    >>> dc.mt.ulm(adata, net, tmin=5)
    >>> adata.obsm["score_ulm"].shape
    (400, 20)
    """
    check_args(
        top_k=(top_k, POSITIVE_INT),
        min_precision=(min_precision, optional(number_in(0, 1, high_open=False))),
        min_score=(min_score, optional(number_in(0, 1, high_open=False))),
        sign=(sign, one_of(*SIGNS)),
    )
    check_score_args(top_k=top_k, chunk_size=chunk_size, rank_by=rank_by, prior_coverage=prior_coverage)
    tfs = check_tfs(tfs)
    if min_score is not None:
        warnings.warn(
            "grn_network(min_score=) is deprecated and will be removed in the next release: it filtered on the "
            "calibrated probability. Use min_precision= (the estimated precision at the real base rate).",
            FutureWarning,
            stacklevel=2,
        )
    fitted = load_fitted(adata, key)
    if fitted.calibration is None:
        raise InputError(
            f"the model under key {key!r} was fitted without a probability calibration (by an older grnlink, "
            "or without labelled pairs of both classes), "
            "so its scores have no model-independent scale. Fit it again with gl.tl.grn_fit."
        )
    gene_cols = _var_positions(adata, fitted, key)
    if fitted.precision_estimator is None and min_precision is not None:
        raise InputError(
            f"min_precision needs a precision estimate, and the model under key {key!r} has none (fitted by "
            "grnlink before format 5, or without held-out prior edges). Refit it with gl.tl.grn_fit."
        )
    score_args = {"tfs": tfs, "top_k": int(top_k), "rank_by": rank_by, "prior_coverage": prior_coverage}
    if groupby is None:
        edges, (tf_pos, gene_pos, _) = score_edges(fitted, chunk_size=chunk_size, **score_args)
        parts = [(None, edges, tf_pos, gene_pos, None)]
    else:
        parts = group_tables(adata, fitted, groupby, chunk_size=chunk_size, **score_args)
    nets = []
    for group, edges, tf_pos, gene_pos, cells in parts:
        keep = np.ones(len(edges), dtype=bool)
        if min_precision is not None:
            keep &= edges["precision"].to_numpy(float) >= min_precision
        if min_score is not None:
            keep &= edges["probability"].to_numpy(float) >= min_score
        signs = _edge_signs(adata, fitted, gene_cols, tf_pos[keep], gene_pos[keep], sign, cells)
        nets.append(_network_table(edges.loc[keep], signs, group, rank_by))
    net = pd.concat(nets, ignore_index=True)
    in_prior = net["in_prior"].to_numpy(bool)
    groups = f" in {len(parts)} groups of {groupby!r}" if groupby is not None else ""
    info(
        f"network: {len(net)} edges of {net['source'].nunique()} TFs{groups} ({int(in_prior.sum())} in the prior, "
        f"{int((net['weight'] < 0).sum())} repressing), signs from {sign}"
    )
    if groupby is not None:
        adata.uns[key]["group_network"] = net
        adata.uns[key]["group_by"] = groupby
    return net


def _edge_signs(adata, fitted, gene_cols, tf_pos, gene_pos, sign: str, cells) -> np.ndarray:
    """+1/-1 per edge: the prior weight's sign (``sign="prior"``) else the TF-target correlation's."""
    signs = _prior_signs(fitted, tf_pos, gene_pos) if sign == "prior" else np.zeros(len(tf_pos))
    undecided = signs == 0
    if undecided.any():
        r = tf_target_correlation(adata, fitted, gene_cols, tf_pos[undecided], gene_pos[undecided], cells=cells)
        signs[undecided] = np.where(r < 0, -1.0, 1.0)
    signs[signs == 0] = 1.0
    return signs


def _network_table(edges: pd.DataFrame, signs: np.ndarray, group, rank_by: str) -> pd.DataFrame:
    """decoupler's columns (source, target, weight) and grnlink's, sorted by TF then best first."""
    probability = edges["probability"].to_numpy(float)
    confidence = np.clip(probability, np.finfo(np.float64).tiny, 1.0)
    net = pd.DataFrame(
        {
            "source": edges["source"].astype(str).to_numpy(),
            "target": edges["target"].astype(str).to_numpy(),
            "weight": signs * confidence,
            "score": edges["score"].to_numpy(float),
            "probability": probability,
            "precision": edges["precision"].to_numpy(float),
            "specificity": edges["specificity"].to_numpy(float),
            "in_prior": edges["in_prior"].to_numpy(bool),
        }
    )
    if group is not None:
        net.insert(0, "group", str(group))
    order = np.lexsort((-net[rank_by].to_numpy(float), net["source"].to_numpy()))
    return net.iloc[order].reset_index(drop=True)


def _prior_signs(fitted: FittedGRN, tf_pos: np.ndarray, gene_pos: np.ndarray) -> np.ndarray:
    """Sign of each pair's prior weight (+1/-1), 0 for pairs outside the prior or with weight 0."""
    n_genes = len(fitted.genes)
    weights = fitted.prior_weight if fitted.prior_weight is not None else np.ones(len(fitted.prior_source))
    prior = pd.Series(np.sign(weights), index=pair_keys(fitted.prior_source, fitted.prior_target, n_genes))
    prior = prior[~prior.index.duplicated()]
    return prior.reindex(pair_keys(tf_pos, gene_pos, n_genes), fill_value=0.0).to_numpy(float)


def tf_target_correlation(
    adata: AnnData,
    fitted: FittedGRN,
    gene_cols: np.ndarray,
    tf_pos: np.ndarray,
    gene_pos: np.ndarray,
    *,
    cells: np.ndarray | None = None,
) -> np.ndarray:
    """Pearson correlation across cells of each (TF, target) pair, in the expression the model was fitted on.

    Reads the fit's ``layer`` and cell subsample (``max_cells``, ``seed``), or
    the cells at positions ``cells`` when given, and only the genes the pairs
    name; a constant gene correlates 0 with anything.
    """
    params = fitted.fit_params
    if cells is None:
        cells = cell_subsample(adata.n_obs, params.get("max_cells"), int(params.get("seed", 0)))
    matrix, what = expression(adata, params.get("layer"))
    used = np.unique(np.concatenate([tf_pos, gene_pos]))
    block = matrix[cells][:, gene_cols[used]]
    if hasattr(block, "compute"):
        block = block.compute()
    dense = np.asarray(block.toarray() if sp.issparse(block) else block, dtype=np.float64)
    check_finite(dense, f"the expression in {what}")
    scale = dense.std(axis=0)
    z = np.divide(dense - dense.mean(axis=0), scale, out=np.zeros_like(dense), where=scale > 0).T
    row = pd.Index(used)
    tf_rows, gene_rows = row.get_indexer(tf_pos), row.get_indexer(gene_pos)
    out = np.empty(len(tf_pos))
    for start in range(0, len(tf_pos), _EDGE_BLOCK):
        stop = start + _EDGE_BLOCK
        out[start:stop] = np.einsum("ij,ij->i", z[tf_rows[start:stop]], z[gene_rows[start:stop]]) / z.shape[1]
    return out
