"""``gl.tl.grn_novel``: each TF's best targets that the prior does not contain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from anndata import AnnData

from .._settings import thread_limit
from .._validation import POSITIVE_INT, check_args, check_tfs, optional
from ._predict import DEFAULT_CHUNK_PAIRS, check_score_args, rank_within, score_edges
from ._store import load_fitted


@thread_limit()
def grn_novel(
    adata: AnnData,
    *,
    key: str = "grn",
    top_k: int = 20,
    n_top: int | None = None,
    tfs: str | Sequence[str] | None = None,
    rank_by: Literal["score", "specificity"] = "score",
    prior_coverage: float | None = None,
    chunk_size: int = DEFAULT_CHUNK_PAIRS,
) -> pd.DataFrame:
    """List each TF's ``top_k`` best targets that are absent from the prior.

    These are the model's candidate new edges, the pairs worth checking in the
    literature or by experiment (paper 004 did so for its top predictions).
    Every TF of the prior (or of ``tfs``) is scored against every gene, a
    block at a time; only each TF's best candidates are kept while scoring,
    so memory stays bounded on large data. Nothing is written to ``adata``.

    A high score says the pair looks like the prior's edges in the features
    the model was given; it is not evidence of regulation on its own. The
    ``precision`` column says how often such a pair is expected to be a true
    edge, and ``specificity`` whether the target stands out for this TF or
    scores high with every TF (a hub): ``rank_by="specificity"`` lists the
    former first.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit`.
    key
        ``adata.uns`` key of the fitted model.
    top_k
        Novel targets kept per TF (the best by ``rank_by``).
    n_top
        Keep only the ``n_top`` best pairs over all TFs (default: every TF's ``top_k``).
    tfs
        TFs to consider (default: the prior's TFs); a string is one TF.
    rank_by
        ``"score"`` or ``"specificity"`` (see :func:`grnlink.tl.grn_network`).
    prior_coverage
        Overrides the fraction of the true network the prior is assumed to
        hold (:func:`grnlink.tl.grn_fit`) for ``precision``.
    chunk_size
        Pairs scored at once.

    Returns
    -------
    DataFrame with columns ``source``, ``target``, ``score`` (raw),
    ``probability`` (calibrated), ``precision`` and ``specificity`` (see
    :func:`grnlink.tl.grn_predict`), ``rank`` (1 = the best novel pair of the
    table by ``rank_by``), ``rank_in_tf`` (the target's rank by ``rank_by``
    among all genes scored for that TF, prior targets included) and
    ``n_prior_targets`` (the TF's number of targets in the prior); best first.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", n_ensemble=1, max_epochs=5)
    >>> novel = gl.tl.grn_novel(adata, top_k=3)
    >>> novel.columns.tolist()
    ['source', 'target', 'score', 'probability', 'precision', 'specificity', 'rank', 'rank_in_tf', 'n_prior_targets']
    >>> int(novel.groupby("source").size().max())
    3
    """
    check_args(top_k=(top_k, POSITIVE_INT), n_top=(n_top, optional(POSITIVE_INT)))
    check_score_args(top_k=top_k, chunk_size=chunk_size, rank_by=rank_by, prior_coverage=prior_coverage)
    tfs = check_tfs(tfs)
    fitted = load_fitted(adata, key)
    prior_degree = pd.Series(fitted.prior_source).value_counts()
    # a TF's best novel pair ranks at most (its prior degree + top_k) among its scored genes
    keep_per_tf = int(top_k) + int(prior_degree.max() if len(prior_degree) else 0)
    edges, (tf_pos, _, _) = score_edges(
        fitted, tfs=tfs, top_k=keep_per_tf, rank_by=rank_by, prior_coverage=prior_coverage, chunk_size=chunk_size
    )
    edges["rank_in_tf"] = rank_within(tf_pos, edges[rank_by].to_numpy(float))
    novel = edges.loc[~edges["in_prior"].to_numpy()].drop(columns="in_prior")
    novel = novel.loc[rank_within(novel["source"].cat.codes.to_numpy(), novel[rank_by].to_numpy(float)) <= top_k]
    novel = novel.sort_values(rank_by, ascending=False, kind="stable")
    if n_top is not None:
        novel = novel.head(int(n_top))
    novel = novel.reset_index(drop=True)
    novel["source"] = novel["source"].astype(str)
    novel["target"] = novel["target"].astype(str)
    novel.insert(6, "rank", np.arange(1, len(novel) + 1))
    source_pos = pd.Index(fitted.genes).get_indexer(novel["source"])
    novel["n_prior_targets"] = prior_degree.reindex(source_pos, fill_value=0).to_numpy()
    return novel
