"""``gl.pl.network``: one TF's highest-scoring targets drawn as a star; edge drawing shared with ``gl.pl.regulon``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .._pairs import pair_keys
from .._validation import GeneIndex, InputError, _preview
from ..tl._predict import score_edges
from ..tl._store import FittedGRN, load_fitted
from ._utils import DOC_AX_SHOW_SAVE, NOVEL_LABEL, PRIOR_LABEL, axes_or_new, doc_params, show_or_save

#: edge colour by the sign of its weight: activation, repression, unknown (no sign to tell)
SIGN_COLORS = {1: "#b2182b", -1: "#2166ac", 0: "#8c8c8c"}
SIGN_LABELS = {1: "activation", -1: "repression", 0: "sign unknown"}
#: edge line style: in the prior or novel
PRIOR_STYLE, NOVEL_STYLE = "-", "--"
WIDTHS = (0.5, 4.0)
_LABEL_RADIUS = 1.12
_KEY_COLOR = "0.35"  # the line-style and width entries of a legend


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
    width follows its rank by score, from widest (best) to thinnest (``top_k``-th),
    so it grows with the score and stays readable when the scores of the
    best targets differ in the fourth decimal; equal scores get equal widths.
    Its colour is the sign of the prior edge (the prior's weight: red
    activation, blue repression); a novel prediction, which has no known
    sign, is grey and dashed (prior edges are solid). Signs from correlation
    for novel edges are in :func:`grnlink.tl.grn_network`, drawn by
    :func:`grnlink.pl.regulon`. A legend explains colours, line styles and widths.

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
    >>> len(ax.lines)
    8
    """
    fitted = load_fitted(adata, key)
    if GeneIndex(fitted.genes).positions([tf])[0] < 0:
        raise InputError(
            f"tf={tf!r} is not a gene of the model fitted under key {key!r}. Its TFs are: {_preview(fitted.tfs, 10)}."
        )
    edges, (tf_pos, gene_pos, _) = score_edges(fitted, tfs=[str(tf)], top_k=top_k)
    edges = edges[["source", "target", "score", "in_prior"]].assign(sign=prior_signs(fitted, tf_pos, gene_pos))
    edges = edges.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    tf_name = str(edges["source"].iloc[0]) if len(edges) else str(tf)
    ax = axes_or_new(ax, figsize=(5.0, 5.0))
    _draw_star(ax, tf_name, edges)
    ax.set_title(f"{tf_name}: top {len(edges)} targets ({key})")
    return show_or_save(ax, "network", show=show, save=save)


def prior_signs(fitted: FittedGRN, tf_pos: np.ndarray, gene_pos: np.ndarray) -> np.ndarray:
    """+1/-1 by the prior weight of each (TF, gene) pair that is a prior edge; 0 for others and weightless priors."""
    if fitted.prior_weight is None:  # stored by a grnlink that kept no prior weights
        return np.zeros(len(tf_pos), dtype=np.int64)
    n_genes = len(fitted.genes)
    prior = pd.Series(np.sign(fitted.prior_weight), index=pair_keys(fitted.prior_source, fitted.prior_target, n_genes))
    prior = prior[~prior.index.duplicated()]
    return prior.reindex(pair_keys(tf_pos, gene_pos, n_genes), fill_value=0.0).to_numpy().astype(np.int64)


def star_positions(n: int) -> np.ndarray:
    """``n`` points on the unit circle, clockwise from the top."""
    angles = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    return np.column_stack([np.cos(angles), np.sin(angles)])


def rank_widths(scores: np.ndarray, low: float = WIDTHS[0], high: float = WIDTHS[1]) -> np.ndarray:
    """Line widths from ``low`` (lowest score) to ``high`` (highest), evenly spaced by rank; ties share a width.

    Unlike min-max scaling of the scores, the spacing does not depend on how
    far apart the scores are, only on their order.

    Examples
    --------
    >>> from grnlink.pl._network import rank_widths
    >>> rank_widths([0.9999, 0.99, 0.995]).tolist()
    [4.0, 0.5, 2.25]
    """
    scores = np.asarray(scores, dtype=np.float64)
    ranks = pd.Series(scores).rank(method="average").to_numpy()  # 1 = lowest
    if len(scores) < 2 or ranks.max() == ranks.min():
        return np.full(len(scores), (low + high) / 2)
    return low + (high - low) * (ranks - 1) / (len(scores) - 1)


def value_widths(values: np.ndarray, low: float = WIDTHS[0], high: float = WIDTHS[1]) -> np.ndarray:
    """Line widths on a fixed scale: ``low`` at 0, ``high`` at 1, linear between (values clipped to [0, 1]).

    A missing value gets ``low``. The same value gives the same width in every figure.

    Examples
    --------
    >>> from grnlink.pl._network import value_widths
    >>> value_widths([0.0, 0.5, 1.0, float("nan")]).tolist()
    [0.5, 2.25, 4.0, 0.5]
    """
    values = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0), 0.0, 1.0)
    return low + (high - low) * values


def edge_legend(
    ax: Axes,
    signs: Sequence[int],
    in_prior: Sequence[bool] | None,
    widths: Sequence[tuple[str, float]],
) -> None:
    """A legend beside ``ax``: the sign colours (activation and repression always, unknown when drawn),
    the prior/novel line styles (unless ``in_prior`` is ``None``) and ``widths`` as (label, line width)."""
    shown = [1, -1] + ([0] if 0 in set(np.asarray(signs).tolist()) else [])
    handles = [Line2D([], [], color=SIGN_COLORS[s], linewidth=2, label=SIGN_LABELS[s]) for s in shown]
    if in_prior is not None:
        handles += [
            Line2D([], [], color=_KEY_COLOR, linewidth=1.5, linestyle=PRIOR_STYLE, label=PRIOR_LABEL),
            Line2D([], [], color=_KEY_COLOR, linewidth=1.5, linestyle=NOVEL_STYLE, label=NOVEL_LABEL),
        ]
    handles += [Line2D([], [], color=_KEY_COLOR, linewidth=width, label=label) for label, width in widths]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def draw_edge(ax: Axes, xy_from, xy_to, *, sign: int, prior: bool, width: float, gid: str) -> None:
    """One edge as a straight line: colour by ``sign``, solid when ``prior`` else dashed; ``gid`` names it."""
    ax.plot(
        [xy_from[0], xy_to[0]],
        [xy_from[1], xy_to[1]],
        color=SIGN_COLORS[int(sign)],
        linewidth=width,
        linestyle=PRIOR_STYLE if prior else NOVEL_STYLE,
        solid_capstyle="round",
        dash_capstyle="round",
        gid=gid,
        zorder=1,
    )


def tf_label(ax: Axes, x: float, y: float, name: str, **kwargs) -> None:
    """A regulator's name in a dark box."""
    box = {"boxstyle": "round,pad=0.4", "facecolor": "0.25", "edgecolor": "none"}
    ax.text(x, y, name, va="center", color="white", fontweight="bold", bbox=box, zorder=3, **kwargs)


def _draw_star(ax: Axes, tf: str, edges: pd.DataFrame) -> None:
    xy = star_positions(len(edges))
    widths = rank_widths(edges["score"].to_numpy())
    in_prior = edges["in_prior"].to_numpy(dtype=bool)
    signs = edges["sign"].to_numpy()
    for (x, y), width, prior, sign, target in zip(xy, widths, in_prior, signs, edges["target"].astype(str)):
        draw_edge(ax, (0, 0), (x, y), sign=sign, prior=prior, width=width, gid=f"{tf}->{target}")
    ax.scatter(xy[:, 0], xy[:, 1], s=60, color="0.85", edgecolors="0.3", zorder=2)
    tf_label(ax, 0, 0, tf, ha="center")
    for (x, y), target in zip(xy, edges["target"].astype(str)):
        ha = "center" if abs(x) < 0.1 else ("left" if x > 0 else "right")
        va = "center" if abs(y) < 0.9 else ("bottom" if y > 0 else "top")
        ax.text(_LABEL_RADIUS * x, _LABEL_RADIUS * y, target, ha=ha, va=va, fontsize="small")
    rank_keys = [("score rank 1", widths[0])] + ([(f"score rank {len(edges)}", widths[-1])] if len(edges) > 1 else [])
    edge_legend(ax, signs, in_prior, rank_keys if len(edges) else [])
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
