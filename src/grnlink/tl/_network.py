"""``gl.tl.grn_network``: the predicted network as decoupler expects it (signed, unique rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._io import expression
from .._pairs import pair_keys
from .._settings import info
from .._validation import POSITIVE_INT, InputError, check_args, check_finite, number_in, one_of, optional
from ._features import cell_subsample
from ._predict import DEFAULT_CHUNK_PAIRS, _var_positions, score_edges
from ._store import FittedGRN, load_fitted

SIGNS = ("prior", "correlation")
_EDGE_BLOCK = 4096  # edges whose correlations are computed at once


def grn_network(
    adata: AnnData,
    key: str = "grn",
    top_k: int = 100,
    *,
    min_score: float | None = None,
    sign: str = "prior",
    chunk_size: int = DEFAULT_CHUNK_PAIRS,
) -> pd.DataFrame:
    """The ``top_k`` best targets of every TF as a signed network for decoupler (``dc.mt.ulm`` & co.).

    Every TF of the fitted prior is scored against every gene with the stored
    model (whatever :func:`grnlink.tl.grn_predict` wrote last plays no part),
    and each TF keeps its ``top_k`` highest-scoring targets. Each (source,
    target) pair appears once.

    ``weight`` = sign x confidence. The confidence is the calibrated
    probability of :func:`grnlink.tl.grn_predict`, in (0, 1] and on the same
    scale for every model, so networks of different models can be swapped in
    one decoupler call. The sign is the mode of regulation: with
    ``sign="prior"``, a prior edge takes the sign of its prior weight
    (DoRothEA's +1 activation / -1 repression) and any other edge the sign of
    the Pearson correlation between TF and target across cells; with
    ``sign="correlation"``, every edge takes the correlation's sign. The
    correlation uses the expression the model was fitted on (its ``layer``
    and cell subsample); a zero correlation, or a prior weight of 0, counts as
    activation.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` (and the genes it was fitted on).
    key
        ``adata.uns`` key of the fitted model.
    top_k
        Targets kept per TF (highest score first).
    min_score
        Keep only edges whose confidence (calibrated probability, ``abs(weight)``)
        is at least this value in [0, 1]. Unlike the raw ``score`` it means
        the same for every model.
    sign
        Where an edge's sign comes from: ``"prior"`` or ``"correlation"`` (above).
    chunk_size
        Pairs scored at once.

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (strings), ``weight``
    (signed confidence), ``score`` (the model's raw score) and ``in_prior``;
    sorted by TF, then by decreasing confidence. ``adata`` is not modified.

    Examples
    --------
    >>> import decoupler as dc
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=400, n_celltypes=4, seed=0)
    >>> prior = adata.uns["true_network"]
    >>> gl.tl.grn_fit(adata, prior, model="two_tower", groupby="cell_type", n_ensemble=1, max_epochs=5)
    >>> net = gl.tl.grn_network(adata, top_k=20)
    >>> net.columns.tolist()
    ['source', 'target', 'weight', 'score', 'in_prior']
    >>> bool(net["weight"].abs().between(0, 1, inclusive="right").all())
    True
    >>> dc.mt.ulm(adata, net, tmin=5)
    >>> adata.obsm["score_ulm"].shape
    (400, 20)
    """
    check_args(
        top_k=(top_k, POSITIVE_INT),
        min_score=(min_score, optional(number_in(0, 1, high_open=False))),
        sign=(sign, one_of(*SIGNS)),
        chunk_size=(chunk_size, POSITIVE_INT),
    )
    fitted = load_fitted(adata, key)
    if fitted.calibration is None:
        raise InputError(
            f"the model under key {key!r} was fitted without a probability calibration (by an older grnlink, "
            "or without labelled pairs of both classes), "
            "so its scores have no model-independent scale. Fit it again with gl.tl.grn_fit."
        )
    gene_cols = _var_positions(adata, fitted, key)
    edges, (tf_pos, gene_pos, _) = score_edges(fitted, top_k=int(top_k), chunk_size=chunk_size)
    confidence = np.clip(edges["probability"].to_numpy(float), np.finfo(np.float64).tiny, 1.0)
    keep = confidence >= min_score if min_score is not None else np.ones(len(edges), dtype=bool)
    tf_pos, gene_pos, confidence, edges = tf_pos[keep], gene_pos[keep], confidence[keep], edges.loc[keep]
    in_prior = edges["in_prior"].to_numpy(bool)
    signs = _prior_signs(fitted, tf_pos, gene_pos) if sign == "prior" else np.zeros(len(tf_pos))
    undecided = signs == 0
    if undecided.any():
        r = tf_target_correlation(adata, fitted, gene_cols, tf_pos[undecided], gene_pos[undecided])
        signs[undecided] = np.where(r < 0, -1.0, 1.0)
    signs[signs == 0] = 1.0
    net = pd.DataFrame(
        {
            "source": edges["source"].astype(str).to_numpy(),
            "target": edges["target"].astype(str).to_numpy(),
            "weight": signs * confidence,
            "score": edges["score"].to_numpy(float),
            "in_prior": in_prior,
        }
    )
    order = np.lexsort((-confidence, net["source"].to_numpy()))
    net = net.iloc[order].reset_index(drop=True)
    info(
        f"network: {len(net)} edges of {net['source'].nunique()} TFs ({int(in_prior.sum())} in the prior, "
        f"{int((net['weight'] < 0).sum())} repressing), signs from {sign}"
    )
    return net


def _prior_signs(fitted: FittedGRN, tf_pos: np.ndarray, gene_pos: np.ndarray) -> np.ndarray:
    """Sign of each pair's prior weight (+1/-1), 0 for pairs outside the prior or with weight 0."""
    n_genes = len(fitted.genes)
    weights = fitted.prior_weight if fitted.prior_weight is not None else np.ones(len(fitted.prior_source))
    prior = pd.Series(np.sign(weights), index=pair_keys(fitted.prior_source, fitted.prior_target, n_genes))
    prior = prior[~prior.index.duplicated()]
    return prior.reindex(pair_keys(tf_pos, gene_pos, n_genes), fill_value=0.0).to_numpy(float)


def tf_target_correlation(
    adata: AnnData, fitted: FittedGRN, gene_cols: np.ndarray, tf_pos: np.ndarray, gene_pos: np.ndarray
) -> np.ndarray:
    """Pearson correlation across cells of each (TF, target) pair, in the expression the model was fitted on.

    Reads the fit's ``layer`` and cell subsample (``max_cells``, ``seed``) and
    only the genes the pairs name; a constant gene correlates 0 with anything.
    """
    params = fitted.fit_params
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
