"""``gl.pl.calibration``: reliability curve of the calibrated edge probabilities."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from anndata import AnnData
from matplotlib.axes import Axes
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

from .._metrics import has_both_classes
from .._validation import InputError, check_edge_table
from ..tl._calibration import calibrated
from ..tl._predict import score_edges
from ..tl._store import load_fitted
from ._utils import DOC_AX_SHOW_SAVE, axes_or_new, doc_params, show_or_save

STRATEGIES = ("uniform", "quantile")


@doc_params(ax_show_save=DOC_AX_SHOW_SAVE)
def calibration(
    adata: AnnData,
    key: str | Sequence[str] = "grn",
    *,
    pairs: pd.DataFrame | None = None,
    n_bins: int = 10,
    strategy: str = "uniform",
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """Reliability curve: the share of true edges against the predicted probability, one curve per model.

    Pairs are binned by their calibrated probability (the ``probability`` of
    :func:`grnlink.tl.grn_predict`); each point is a bin's mean probability
    against the share of edges among its pairs. A calibrated model lies on the
    diagonal. By default the pairs are the ones the calibration was fitted on
    (the validation pairs stored in ``adata.uns[key]["calibration"]``), which
    shows how well the chosen map fits them; pass held-out labelled ``pairs``
    (e.g. ``gl.bm.split(...).val`` of another split, with the same class
    balance) for an independent check.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` under ``key``.
    key
        ``adata.uns`` key of a fitted model, or a list of keys to compare models.
    pairs
        Labelled pairs (``source``, ``target``, ``label`` 1/0) to score and plot
        instead of the stored calibration pairs.
    n_bins
        Number of probability bins.
    strategy
        ``"uniform"`` (equal-width bins) or ``"quantile"`` (equally filled bins),
        as in :func:`sklearn.calibration.calibration_curve`.
    {ax_show_save}

    Returns
    -------
    The Axes when not shown, else ``None``. The legend gives each model's
    Brier score and number of pairs. ``adata`` is not modified.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=400, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="pcc")
    >>> ax = gl.pl.calibration(adata, n_bins=5, show=False)
    """
    keys = [key] if isinstance(key, str) else [str(k) for k in key]
    if not keys:
        raise InputError("key is an empty list; pass the adata.uns key of at least one fitted model, e.g. key='grn'.")
    if int(n_bins) != n_bins or n_bins < 2:
        raise InputError(f"n_bins must be an integer >= 2, got {n_bins!r}.")
    if strategy not in STRATEGIES:
        raise InputError(f"strategy={strategy!r} is not known; use one of {STRATEGIES}.")
    labels_given = _pair_labels(pairs) if pairs is not None else None
    curves = [(k, *_probabilities(adata, k, pairs, labels_given)) for k in keys]
    ax = axes_or_new(ax)
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1.0, label="perfectly calibrated")
    for name, labels, probs in curves:
        share, mean_prob = calibration_curve(labels, probs, n_bins=int(n_bins), strategy=strategy)
        brier = brier_score_loss(labels, probs)
        ax.plot(mean_prob, share, marker="o", label=f"{name} (Brier {brier:.3f}, n={len(labels):,})")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("share of edges")
    ax.set_title("calibration " + ("(given pairs)" if pairs is not None else "(calibration pairs)"))
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    return show_or_save(ax, "calibration", show=show, save=save)


def _pair_labels(pairs: pd.DataFrame) -> np.ndarray:
    check_edge_table(pairs, "pairs")
    if "label" not in pairs.columns:
        raise InputError("pairs needs a 'label' column (1 = edge, 0 = non-edge), e.g. gl.bm.split(...).val.")
    labels = pd.to_numeric(pairs["label"], errors="coerce").to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise InputError("pairs['label'] must hold only 0 (non-edge) and 1 (edge).")
    if not has_both_classes(labels):
        raise InputError("pairs must hold both edges (label 1) and non-edges (label 0) to draw a reliability curve.")
    return labels.astype(np.int64)


def _probabilities(
    adata: AnnData, key: str, pairs: pd.DataFrame | None, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and calibrated probabilities of the pairs to plot for one fitted model."""
    fitted = load_fitted(adata, key)
    if fitted.calibration is None:
        raise InputError(f"the model under key {key!r} has no calibration (older grnlink); fit it again.")
    if pairs is None:
        stored = fitted.calibration
        scores = np.asarray(stored["scores"], dtype=np.float64)
        return np.asarray(stored["labels"]).astype(np.int64), calibrated(stored, scores)
    edges, _ = score_edges(fitted, pairs=pairs[["source", "target"]])
    return labels, edges["probability"].to_numpy(float)
