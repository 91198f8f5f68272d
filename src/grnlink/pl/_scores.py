"""``gl.pl.scores``: distribution of the stored edge scores, prior pairs against the rest."""

from __future__ import annotations

import numpy as np
from anndata import AnnData
from matplotlib.axes import Axes

from .._validation import POSITIVE_INT, InputError, check_args
from ._utils import (
    DOC_AX_SHOW_SAVE,
    NOVEL_COLOR,
    NOVEL_LABEL,
    PRIOR_COLOR,
    PRIOR_LABEL,
    axes_or_new,
    doc_params,
    show_or_save,
    stored_edges,
)


@doc_params(ax_show_save=DOC_AX_SHOW_SAVE)
def scores(
    adata: AnnData,
    key: str = "grn",
    *,
    bins: int = 50,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """Histograms (as densities) of the edge scores of prior and of novel pairs.

    Uses the edges stored by the last :func:`grnlink.tl.grn_predict` under
    ``key``. A model that separates its prior from the other pairs puts the
    prior's scores to the right; the other pairs are a mix of unknown true
    edges and non-edges.

    Parameters
    ----------
    adata
        AnnData with edges from :func:`grnlink.tl.grn_predict` under ``key``.
    key
        ``adata.uns`` key of the fitted model.
    bins
        Number of bins, shared by both histograms.
    {ax_show_save}

    Returns
    -------
    The Axes when not shown, else ``None``. The legend gives each group's
    number of pairs.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", n_ensemble=1, max_epochs=5)
    >>> edges = gl.tl.grn_predict(adata)
    >>> ax = gl.pl.scores(adata, show=False)
    """
    check_args(bins=(bins, POSITIVE_INT))
    edges = stored_edges(adata, key)
    values = np.asarray(edges["score"], dtype=np.float64)
    in_prior = np.asarray(edges["in_prior"], dtype=bool)
    finite = np.isfinite(values)
    if not finite.any():
        raise InputError(f"adata.uns[{key!r}]['edges'] holds no finite score; run gl.tl.grn_predict again.")
    edges_of_bins = np.histogram_bin_edges(values[finite], bins=int(bins))
    ax = axes_or_new(ax)
    for mask, color, label in ((in_prior, PRIOR_COLOR, PRIOR_LABEL), (~in_prior, NOVEL_COLOR, NOVEL_LABEL)):
        group = values[mask & finite]
        if len(group):
            ax.hist(
                group,
                bins=edges_of_bins,
                density=True,
                histtype="stepfilled",
                alpha=0.45,
                color=color,
                edgecolor=color,
                label=f"{label} (n={len(group):,})",
            )
    ax.set_xlabel("edge score")
    ax.set_ylabel("density")
    ax.set_title(f"edge scores ({key})")
    ax.legend(fontsize="small", frameon=False)
    return show_or_save(ax, "scores", show=show, save=save)
