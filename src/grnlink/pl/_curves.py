"""``gl.pl.roc_curve`` and ``gl.pl.pr_curve``: ranking quality of scored pairs against a ground truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.axes import Axes
from sklearn import metrics

from .._pairs import pair_keys
from .._settings import info
from .._validation import GeneIndex, InputError, check_edge_table
from ..tl._predict import score_edges
from ..tl._store import load_fitted
from ._utils import DOC_AX_SHOW_SAVE, axes_or_new, doc_params, fitted_entry, gene_positions, show_or_save, stored_edges

_CURVE_INPUTS = """truth
        Ground truth: a table with ``source`` and ``target`` (every listed pair
        is an edge, every other scored pair a non-edge), or with a ``label``
        column (1 = edge, 0 = non-edge; only the listed pairs are evaluated),
        e.g. ``gl.bm.split(...).test``. Genes are matched to the model's genes
        as :func:`grnlink.tl.grn_fit` matches them (as strings, exact first,
        then ignoring case). May be ``None`` when ``pairs`` has a ``label`` column.
    key
        ``adata.uns`` key of a fitted model, or a list of keys to compare
        several models in one plot.
    pairs
        Pairs to score and plot (``source``, ``target`` and optionally
        ``label``); scored with the fitted model without writing anything.
        Labels come from its ``label`` column, else from ``truth``. Default:
        the edges stored by the last :func:`grnlink.tl.grn_predict` under each
        key (after ``grn_predict(top_k=...)``, only those top pairs).
    include_prior
        Keep pairs of the fitted prior. They are dropped by default because
        they were the model's training positives: a model has seen them, so
        they would inflate the curve."""
_CHANCE_STYLE = {"color": "0.5", "linestyle": "--", "linewidth": 1.0}


@dataclass(frozen=True)
class _Labelled:
    """Scores and 0/1 labels of the pairs one fitted model is evaluated on."""

    key: str
    labels: np.ndarray
    scores: np.ndarray

    @property
    def n_pos(self) -> int:
        return int(self.labels.sum())


@doc_params(curve_inputs=_CURVE_INPUTS, ax_show_save=DOC_AX_SHOW_SAVE)
def roc_curve(
    adata: AnnData,
    truth: pd.DataFrame | None,
    *,
    key: str | Sequence[str] = "grn",
    pairs: pd.DataFrame | None = None,
    include_prior: bool = False,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """ROC curve of scored TF→target pairs against a ground truth, one curve per fitted model.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` under ``key``.
    {curve_inputs}
    {ax_show_save}

    Returns
    -------
    The Axes when not shown, else ``None``. The legend gives each model's
    AUROC and number of evaluated pairs. ``adata`` is not modified.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    >>> gl.tl.grn_fit(adata, split.prior, model="two_tower", **split.fit_kwargs(), n_ensemble=1, max_epochs=5)
    >>> edges = gl.tl.grn_predict(adata)
    >>> ax = gl.pl.roc_curve(adata, split.test, show=False)
    """
    curves = _evaluated(adata, truth, key, pairs, include_prior, "ROC curve")
    ax = axes_or_new(ax)
    for curve in curves:
        fpr, tpr, _ = metrics.roc_curve(curve.labels, curve.scores)
        auroc = metrics.roc_auc_score(curve.labels, curve.scores)
        ax.plot(fpr, tpr, label=f"{curve.key} (AUROC {auroc:.2f}, n={len(curve.labels):,})")
    ax.plot([0, 1], [0, 1], label="chance", **_CHANCE_STYLE)
    _decorate(ax, "false positive rate", "true positive rate", legend_loc="lower right")
    return show_or_save(ax, "roc_curve", show=show, save=save)


@doc_params(curve_inputs=_CURVE_INPUTS, ax_show_save=DOC_AX_SHOW_SAVE)
def pr_curve(
    adata: AnnData,
    truth: pd.DataFrame | None,
    *,
    key: str | Sequence[str] = "grn",
    pairs: pd.DataFrame | None = None,
    include_prior: bool = False,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """Precision-recall curve of scored TF→target pairs against a ground truth, one curve per fitted model.

    The dashed line is a random ranking: precision equal to the share of
    positives among the evaluated pairs (one line per model when their pairs
    differ in that share).

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` under ``key``.
    {curve_inputs}
    {ax_show_save}

    Returns
    -------
    The Axes when not shown, else ``None``. The legend gives each model's
    AUPRC (average precision) and number of evaluated pairs. ``adata`` is not modified.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    >>> gl.tl.grn_fit(adata, split.prior, model="two_tower", **split.fit_kwargs(), n_ensemble=1, max_epochs=5)
    >>> ax = gl.pl.pr_curve(adata, split.test, pairs=split.test, show=False)
    """
    curves = _evaluated(adata, truth, key, pairs, include_prior, "precision-recall curve")
    ax = axes_or_new(ax)
    lines = []
    for curve in curves:
        precision, recall, _ = metrics.precision_recall_curve(curve.labels, curve.scores)
        auprc = metrics.average_precision_score(curve.labels, curve.scores)
        label = f"{curve.key} (AUPRC {auprc:.2f}, n={len(curve.labels):,})"
        lines.append(ax.plot(recall, precision, drawstyle="steps-post", label=label)[0])
    shares = [curve.n_pos / len(curve.labels) for curve in curves]
    if np.allclose(shares, shares[0]):
        ax.axhline(shares[0], label=f"chance ({shares[0]:.2f})", **_CHANCE_STYLE)
    else:
        for line, curve, share in zip(lines, curves, shares):
            style = {**_CHANCE_STYLE, "color": line.get_color()}
            ax.axhline(share, label=f"chance, {curve.key} ({share:.2f})", **style)
    _decorate(ax, "recall", "precision", legend_loc="upper right")
    return show_or_save(ax, "pr_curve", show=show, save=save)


def _decorate(ax: Axes, xlabel: str, ylabel: str, *, legend_loc: str) -> None:
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc=legend_loc, fontsize="small", frameon=False)


def _evaluated(
    adata: AnnData,
    truth: pd.DataFrame | None,
    key: str | Sequence[str],
    pairs: pd.DataFrame | None,
    include_prior: bool,
    what: str,
) -> list[_Labelled]:
    """Labelled scores of every key, each with both classes; bad input raises before anything is drawn."""
    keys = [key] if isinstance(key, str) else [str(k) for k in key]
    if not keys:
        raise InputError("key is an empty list; pass the adata.uns key of at least one fitted model, e.g. key='grn'.")
    if pairs is not None:
        check_edge_table(pairs, "pairs")
    pair_labels = _label_values(pairs, "pairs") if pairs is not None and "label" in pairs.columns else None
    if pair_labels is None:
        if truth is None:
            raise InputError("truth is None: pass the ground-truth edges, or pairs= with a 'label' column.")
        check_edge_table(truth, "truth")
        _label_values(truth, "truth")  # checks the labels early, when there are any
    return [_labelled(adata, k, truth, pairs, pair_labels, include_prior, what) for k in keys]


def _labelled(
    adata: AnnData,
    key: str,
    truth: pd.DataFrame | None,
    pairs: pd.DataFrame | None,
    pair_labels: np.ndarray | None,
    include_prior: bool,
    what: str,
) -> _Labelled:
    if pairs is not None:
        fitted = load_fitted(adata, key)
        edges, _ = score_edges(fitted, pairs=pairs[["source", "target"]])
        genes = fitted.genes
    else:
        genes = np.asarray(fitted_entry(adata, key)["genes"]).astype(str)
        edges = stored_edges(adata, key)
    labels = pair_labels.astype(np.float64) if pair_labels is not None else _truth_labels(edges, truth, genes)
    in_prior = np.asarray(edges["in_prior"], dtype=bool)
    keep = ~np.isnan(labels) & (include_prior | ~in_prior)
    n_prior = int((~np.isnan(labels) & in_prior).sum()) if not include_prior else 0
    if n_prior:
        info(
            f"{key}: left out {n_prior} pairs of the fitted prior (the model trained on them); "
            "include_prior=True keeps them"
        )
    result = _Labelled(key, labels[keep].astype(np.int64), np.asarray(edges["score"], dtype=np.float64)[keep])
    _check_both_classes(result, n_prior_pos=int((labels[~keep] == 1).sum()), what=what)
    return result


def _truth_labels(edges: pd.DataFrame, truth: pd.DataFrame, genes: np.ndarray) -> np.ndarray:
    """1/0 label of each edge from ``truth``; NaN for edges a labelled truth does not list."""
    index, n_genes = GeneIndex(genes), len(genes)
    edge_keys = pair_keys(gene_positions(edges["source"], index), gene_positions(edges["target"], index), n_genes)
    src, tgt = gene_positions(truth["source"], index), gene_positions(truth["target"], index)
    known = (src >= 0) & (tgt >= 0)
    truth_keys = pair_keys(src[known], tgt[known], n_genes)
    if "label" not in truth.columns:
        return np.isin(edge_keys, truth_keys).astype(np.float64)
    truth_labels = _label_values(truth, "truth")[known]
    labels = np.full(len(edge_keys), np.nan)
    labels[np.isin(edge_keys, truth_keys[truth_labels == 0])] = 0.0
    labels[np.isin(edge_keys, truth_keys[truth_labels == 1])] = 1.0
    return labels


def _label_values(table: pd.DataFrame, what: str) -> np.ndarray | None:
    """The 0/1 ``label`` column as integers, ``None`` without one; other values raise."""
    if "label" not in table.columns:
        return None
    labels = pd.to_numeric(table["label"], errors="coerce").to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise InputError(f"{what}['label'] must hold only 0 (non-edge) and 1 (edge).")
    return labels.astype(np.int64)


def _check_both_classes(curve: _Labelled, *, n_prior_pos: int, what: str) -> None:
    n, n_pos = len(curve.labels), curve.n_pos
    if 0 < n_pos < n:
        return
    message = (
        f"a {what} needs positive and negative pairs, but the {n} evaluated pairs of key {curve.key!r} "
        f"hold {n_pos} positive and {n - n_pos} negative."
    )
    if n_pos == 0 and n_prior_pos:
        message += (
            f" All {n_prior_pos} true edges among the scored pairs are in the fitted prior and were left out "
            "(the model trained on them): evaluate on held-out pairs (e.g. gl.bm.split(...).test, fitting with "
            "split.fit_kwargs()) or pass include_prior=True."
        )
    elif n == 0:
        message += " No scored pair is listed in truth: check that truth names the same genes as adata.var_names."
    else:
        message += " Check that truth and the scored pairs name the same genes, or pass pairs= with both classes."
    raise InputError(message)
