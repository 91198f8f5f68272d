"""``gl.tl.grn_network``: the predicted network as a decoupler-ready table."""

from __future__ import annotations

import pandas as pd
from anndata import AnnData

from .._validation import POSITIVE_INT, check_args
from ._predict import grn_predict
from ._store import load_fitted


def grn_network(adata: AnnData, key: str = "grn", top_k: int = 100) -> pd.DataFrame:
    """Top-scoring targets of each TF as a ``source``, ``target``, ``weight`` table.

    Uses the edges of the last :func:`grnlink.tl.grn_predict` call under
    ``key``, or scores every prior TF against every gene when there are none.
    The table plugs into decoupler, e.g. ``dc.mt.ulm(adata, net)``.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit`.
    key
        ``adata.uns`` key of the fitted model.
    top_k
        Targets kept per TF (highest score first).

    Returns
    -------
    DataFrame with columns ``source``, ``target`` (strings), ``weight`` (the
    score) and ``in_prior``, sorted by TF then decreasing weight.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], n_ensemble=1, max_epochs=5)
    >>> net = gl.tl.grn_network(adata, top_k=50)
    >>> net.columns.tolist()
    ['source', 'target', 'weight', 'in_prior']
    """
    check_args(top_k=(top_k, POSITIVE_INT))
    load_fitted(adata, key)  # raises a clear error when nothing was fitted or the model is damaged
    edges = adata.uns[key].get("edges")
    if edges is None or len(edges) == 0:
        edges = grn_predict(adata, top_k=top_k, key=key)
    net = pd.DataFrame(
        {
            "source": edges["source"].astype(str).to_numpy(),
            "target": edges["target"].astype(str).to_numpy(),
            "weight": edges["score"].to_numpy(float),
            "in_prior": edges["in_prior"].to_numpy(bool),
        }
    )
    net = net.sort_values(["source", "weight"], ascending=[True, False], kind="stable")
    return net.groupby("source", sort=False).head(int(top_k)).reset_index(drop=True)
