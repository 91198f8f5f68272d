"""``gl.pl.network``: one TF's highest-scoring targets drawn as a star."""

from __future__ import annotations

import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .._validation import GeneIndex, InputError, _preview
from ..tl._predict import score_edges
from ..tl._store import load_fitted
from ._utils import (
    DOC_AX_SHOW_SAVE,
    NOVEL_COLOR,
    NOVEL_LABEL,
    PRIOR_COLOR,
    PRIOR_LABEL,
    axes_or_new,
    doc_params,
    show_or_save,
)

_WIDTHS = (0.5, 4.0)
_LABEL_RADIUS = 1.12


@doc_params(ax_show_save=DOC_AX_SHOW_SAVE)
def network(
    adata: AnnData,
    tf: str,
    *,
    key: str = "grn",
    top_k: int = 10,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """A TF's ``top_k`` highest-scoring targets: the TF in the centre, its targets on a circle.

    Targets are scored with the fitted model (nothing is written to ``adata``)
    and placed clockwise from the top in order of decreasing score. An edge's
    width grows with its score (min-max scaled); its colour says whether the
    pair is in the fitted prior or a novel prediction.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` under ``key``.
    tf
        The regulator, one of the model's genes (usually a TF of the prior).
    key
        ``adata.uns`` key of the fitted model.
    top_k
        Number of targets drawn.
    {ax_show_save}

    Returns
    -------
    The Axes when not shown, else ``None``. One line per edge.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", n_ensemble=1, max_epochs=5)
    >>> ax = gl.pl.network(adata, "TF001", top_k=8, show=False)
    """
    fitted = load_fitted(adata, key)
    if GeneIndex(fitted.genes).positions([tf])[0] < 0:
        raise InputError(
            f"tf={tf!r} is not a gene of the model fitted under key {key!r}. Its TFs are: {_preview(fitted.tfs, 10)}."
        )
    edges, _ = score_edges(fitted, tfs=[str(tf)], top_k=top_k)
    edges = edges.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    tf_name = str(edges["source"].iloc[0]) if len(edges) else str(tf)
    ax = axes_or_new(ax, figsize=(5.0, 5.0))
    _draw_star(ax, tf_name, edges)
    ax.set_title(f"{tf_name}: top {len(edges)} targets ({key})")
    return show_or_save(ax, "network", show=show, save=save)


def star_positions(n: int) -> np.ndarray:
    """``n`` points on the unit circle, clockwise from the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    return np.column_stack([np.cos(angles), np.sin(angles)])


def scaled_widths(scores: np.ndarray, low: float = _WIDTHS[0], high: float = _WIDTHS[1]) -> np.ndarray:
    """Line widths from ``low`` to ``high``, min-max scaled by score; the middle when all scores tie."""
    scores = np.asarray(scores, dtype=np.float64)
    span = scores.max() - scores.min() if len(scores) else 0.0
    if not span > 0:
        return np.full(len(scores), (low + high) / 2)
    return low + (high - low) * (scores - scores.min()) / span


def _draw_star(ax: Axes, tf: str, edges: pd.DataFrame) -> None:
    xy = star_positions(len(edges))
    widths = scaled_widths(edges["score"].to_numpy())
    in_prior = edges["in_prior"].to_numpy(dtype=bool)
    for (x, y), width, prior in zip(xy, widths, in_prior):
        color = PRIOR_COLOR if prior else NOVEL_COLOR
        ax.plot([0, x], [0, y], color=color, linewidth=width, solid_capstyle="round", zorder=1)
    ax.scatter(xy[:, 0], xy[:, 1], s=60, color="0.85", edgecolors="0.3", zorder=2)
    box = {"boxstyle": "round,pad=0.4", "facecolor": "0.25", "edgecolor": "none"}
    ax.text(0, 0, tf, ha="center", va="center", color="white", fontweight="bold", bbox=box, zorder=3)
    for (x, y), target in zip(xy, edges["target"].astype(str)):
        ha = "center" if abs(x) < 0.1 else ("left" if x > 0 else "right")
        va = "center" if abs(y) < 0.9 else ("bottom" if y > 0 else "top")
        ax.text(_LABEL_RADIUS * x, _LABEL_RADIUS * y, target, ha=ha, va=va, fontsize="small")
    handles = [
        Line2D([], [], color=PRIOR_COLOR, linewidth=2, label=PRIOR_LABEL),
        Line2D([], [], color=NOVEL_COLOR, linewidth=2, label=NOVEL_LABEL),
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
