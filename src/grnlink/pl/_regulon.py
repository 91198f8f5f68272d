"""``gl.pl.regulon``: the signed targets of one or several TFs, regulators on the left, targets on the right."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.axes import Axes

from .._validation import POSITIVE_INT, GeneIndex, InputError, _preview, check_args, check_tfs
from ..tl._export import check_network_table, check_one_edge_per_pair, edge_signs
from ..tl._network import grn_network
from ._network import draw_edge, edge_legend, tf_label, value_widths
from ._utils import DOC_AX_SHOW_SAVE, axes_or_new, doc_params, show_or_save

#: the values the width key of the legend shows
_WIDTH_KEYS = (0.1, 0.5, 1.0)
_TARGET_X = 1.0


@doc_params(ax_show_save=DOC_AX_SHOW_SAVE)
def regulon(
    adata: AnnData | None = None,
    tfs: str | Sequence[str] | None = None,
    *,
    net: pd.DataFrame | None = None,
    key: str = "grn",
    top_k: int = 10,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """The signed targets of one or several TFs: regulators on the left, their targets on the right.

    Each TF keeps its ``top_k`` best targets (by ``score`` when the table has
    one, else by ``abs(weight)``). A target shared by several of the TFs is
    drawn once, with an edge from each of them, and targets sit near the
    TFs that regulate them. A TF that is also the target of another drawn TF
    appears in both columns.

    Edges are coloured by the sign of ``weight`` (red activation, blue
    repression, grey for a weight of 0), solid when ``in_prior`` (a known
    edge) and dashed when novel (all solid if the table has no ``in_prior``).
    The width grows linearly with the edge's ``precision`` on a fixed scale
    (thinnest at 0, widest at 1, the same in every figure; a missing precision
    is drawn thinnest). A table without a ``precision`` column, or with
    precision missing throughout (a model fitted by an older grnlink), is drawn
    by ``probability`` instead, and one without either by ``abs(weight)``
    (the probability in :func:`grnlink.tl.grn_network`'s tables); the legend
    names the column used, beside the colours and line styles.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` under ``key``;
        its network is ``gl.tl.grn_network(adata, key=key, top_k=top_k)``.
        Not needed (and not read) when ``net`` is given.
    tfs
        The regulator, or a list of them; matched to the network's sources
        ignoring case.
    net
        A network table to draw instead (as :func:`grnlink.tl.grn_network`
        returns it): ``source``, ``target`` and a signed numeric ``weight``;
        ``score``, ``precision``, ``probability`` and ``in_prior`` are used when
        present. A table with a ``group`` column must be cut to one group
        first (``net[net["group"] == "B cell"]``). Not modified.
    key
        ``adata.uns`` key of the fitted model.
    top_k
        Targets drawn per TF.
    {ax_show_save}

    Returns
    -------
    The Axes when not shown, else ``None``. One line per edge.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> net = pd.DataFrame(
    ...     {"source": ["HNF4A", "HNF4A", "HNF4A", "FOXA2", "FOXA2"],
    ...      "target": ["APOA1", "CYP3A4", "TTR", "APOA1", "ALB"],
    ...      "weight": [0.9, -0.6, 0.7, 0.8, 0.5],
    ...      "precision": [0.8, 0.3, 0.5, 0.6, 0.2],
    ...      "in_prior": [True, False, True, True, False]}
    ... )
    >>> ax = gl.pl.regulon(tfs=["HNF4A", "FOXA2"], net=net, show=False)
    >>> len(ax.lines)  # one per edge; APOA1, a target of both, is drawn once
    5
    """
    check_args(top_k=(top_k, POSITIVE_INT))
    if tfs is None:
        raise InputError("pass tfs, the TF (or list of TFs) whose targets to draw, e.g. tfs=['HNF4A', 'FOXA2'].")
    tfs = check_tfs(tfs)
    if net is None:
        if adata is None:
            raise InputError("pass adata (with a model fitted by gl.tl.grn_fit) or net= (a network table) to draw.")
        net = grn_network(adata, key=key, top_k=top_k)
        where = f"the network of the model under key {key!r}"
    else:
        where = "net"
    check_network_table(net, "net")
    sources = pd.unique(net["source"].astype(str))
    positions = GeneIndex(sources).positions(tfs)
    if (positions < 0).any():
        unknown = [t for t, p in zip(tfs, positions) if p < 0]
        raise InputError(
            f"tfs {unknown} are not regulators (sources) in {where}. Its TFs are: {_preview(sources, 10)}."
        )
    tf_names = list(dict.fromkeys(sources[positions]))
    edges = _top_edges(net, tf_names, top_k)
    check_one_edge_per_pair(edges, "net")
    what, values = width_values(edges)
    ax = axes_or_new(ax, figsize=(6.0, max(3.0, 0.28 * edges["target"].nunique() + 1.0)))
    _draw_bipartite(ax, tf_names, edges, values, what)
    names = ", ".join(tf_names)
    ax.set_title(f"{'Regulon' if len(tf_names) == 1 else 'Regulons'} of {names} (top {top_k} targets)")
    return show_or_save(ax, "regulon", show=show, save=save)


def width_values(edges: pd.DataFrame) -> tuple[str, np.ndarray]:
    """The column edge widths follow and its values: precision, else probability, else ``abs(weight)``."""
    for column in ("precision", "probability"):
        if column in edges.columns:
            values = pd.to_numeric(edges[column], errors="coerce").to_numpy(dtype=np.float64)
            if np.isfinite(values).any():
                return column, values
    return "|weight|", np.abs(edges["weight"].to_numpy(dtype=np.float64))


def _top_edges(net: pd.DataFrame, tf_names: list[str], top_k: int) -> pd.DataFrame:
    """The rows of ``tf_names`` (in that order), each TF's ``top_k`` best by score (else ``abs(weight)``)."""
    rows = net.assign(source=net["source"].astype(str), target=net["target"].astype(str))
    rows = rows[rows["source"].isin(tf_names)]
    rank = rows["score"] if "score" in rows.columns else rows["weight"].abs()
    rows = rows.assign(_rank=pd.to_numeric(rank, errors="coerce").to_numpy(), _tf=rows["source"].map(tf_names.index))
    rows = rows.sort_values(["_tf", "_rank"], ascending=[True, False], kind="stable", na_position="last")
    return rows.groupby("_tf", sort=False).head(top_k).drop(columns=["_rank", "_tf"]).reset_index(drop=True)


def _draw_bipartite(ax: Axes, tf_names: list[str], edges: pd.DataFrame, values: np.ndarray, what: str) -> None:
    tf_y = {tf: 1 - (i + 0.5) / len(tf_names) for i, tf in enumerate(tf_names)}
    # targets near their TFs (mean height of the TFs that regulate them), each TF's strongest first
    order = (
        pd.DataFrame({"target": edges["target"], "y": edges["source"].map(tf_y), "value": np.nan_to_num(values)})
        .groupby("target", sort=False)
        .agg(y=("y", "mean"), value=("value", "max"))
        .reset_index()
        .sort_values(["y", "value", "target"], ascending=[False, False, True], kind="stable")
    )
    targets = order["target"].tolist()
    target_y = {t: 1 - (j + 0.5) / len(targets) for j, t in enumerate(targets)}
    signs = edge_signs(edges["weight"])
    in_prior = edges["in_prior"].eq(True).to_numpy() if "in_prior" in edges.columns else None
    widths = value_widths(values)
    for i in np.argsort(np.nan_to_num(values), kind="stable"):  # strongest edges on top
        source, target = edges["source"].iloc[i], edges["target"].iloc[i]
        draw_edge(
            ax,
            (0.0, tf_y[source]),
            (_TARGET_X, target_y[target]),
            sign=signs[i],
            prior=True if in_prior is None else in_prior[i],
            width=widths[i],
            gid=f"{source}->{target}",
        )
    ys = np.array([target_y[t] for t in targets])
    ax.scatter(np.full(len(ys), _TARGET_X), ys, s=40, color="0.85", edgecolors="0.3", zorder=2)
    for target, y in target_y.items():
        ax.text(_TARGET_X + 0.04, y, target, ha="left", va="center", fontsize="small")
    for tf, y in tf_y.items():
        tf_label(ax, 0.0, y, tf, ha="center")
    edge_legend(ax, signs, in_prior, [(f"{what} {v:g}", w) for v, w in zip(_WIDTH_KEYS, value_widths(_WIDTH_KEYS))])
    ax.set_xlim(-0.35, 1.45)
    ax.set_ylim(-0.02, 1.02)
    ax.axis("off")
