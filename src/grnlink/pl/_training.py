"""``gl.pl.training``: loss and validation curves of each ensemble member."""

from __future__ import annotations

from typing import Any

import numpy as np
from anndata import AnnData
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from .._validation import InputError
from ._utils import DOC_AX_SHOW_SAVE, axes_or_new, doc_params, fitted_entry, show_or_save


@doc_params(ax_show_save=DOC_AX_SHOW_SAVE)
def training(
    adata: AnnData,
    key: str = "grn",
    *,
    ax: Axes | None = None,
    show: bool | None = None,
    save: bool | str | None = None,
) -> Axes | None:
    """Training curves stored by :func:`grnlink.tl.grn_fit`, one colour per ensemble member.

    Training loss (solid) and validation loss (dashed) share the left axis;
    validation AUROC (dash-dot) is on a twin right axis; a dotted vertical line
    marks each member's best epoch, whose weights the model kept. Members that
    stopped early end early. Validation curves are left out when the fit had
    no validation pairs.

    Parameters
    ----------
    adata
        AnnData with a model fitted by :func:`grnlink.tl.grn_fit` under ``key``.
    key
        ``adata.uns`` key of the fitted model.
    {ax_show_save}

    Returns
    -------
    The main (loss) Axes when not shown, else ``None``; the AUROC axis is its
    twin. Models trained without epochs (``pcc``, ``genie3``) raise
    :class:`~grnlink.InputError`.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="two_tower", n_ensemble=2, max_epochs=5)
    >>> ax = gl.pl.training(adata, show=False)
    """
    entry = fitted_entry(adata, key)
    curves = training_curves(entry.get("training", {}), model=str(entry["model"]), key=key)
    ax = axes_or_new(ax, figsize=(6.0, 4.0))
    _draw(ax, curves)
    ax.set_title(f"{entry['model']} training ({key})")
    return show_or_save(ax, "training", show=show, save=save)


def training_curves(summary: dict[str, Any], *, model: str, key: str) -> dict[str, np.ndarray]:
    """``loss``, ``val_loss``, ``val_auroc`` as members x epochs arrays and ``best_epoch`` per member."""
    loss = np.atleast_2d(np.asarray(summary.get("loss", []), dtype=np.float64))
    if loss.size == 0 or not np.isfinite(loss).any():
        raise InputError(
            f"the {model!r} model under key {key!r} has no training curves: it is not trained over epochs "
            "(unsupervised baselines such as 'pcc' and 'genie3' only use the prior for validation metrics). "
            "Plot a model trained by gl.tl.grn_fit, e.g. model='two_tower'."
        )
    curves = {"loss": loss}
    for name in ("val_loss", "val_auroc"):
        values = np.atleast_2d(np.asarray(summary.get(name, []), dtype=np.float64))
        curves[name] = values if values.shape == loss.shape else np.full(loss.shape, np.nan)
    best = np.atleast_1d(np.asarray(summary.get("best_epoch", []), dtype=np.float64))
    curves["best_epoch"] = best if best.shape == (loss.shape[0],) else np.full(loss.shape[0], np.nan)
    return curves


def _draw(ax: Axes, curves: dict[str, np.ndarray]) -> None:
    loss, val_loss, val_auroc = curves["loss"], curves["val_loss"], curves["val_auroc"]
    epochs = np.arange(1, loss.shape[1] + 1)
    has_val_loss, has_auroc = np.isfinite(val_loss).any(), np.isfinite(val_auroc).any()
    twin = ax.twinx() if has_auroc else None
    colors = [f"C{i % 10}" for i in range(loss.shape[0])]
    for i, color in enumerate(colors):
        member = f"member {i + 1}"
        ax.plot(epochs, loss[i], color=color, linestyle="-", label=f"{member} training loss")
        if has_val_loss:
            ax.plot(epochs, val_loss[i], color=color, linestyle="--", label=f"{member} validation loss")
        if twin is not None:
            twin.plot(epochs, val_auroc[i], color=color, linestyle="-.", alpha=0.8, label=f"{member} validation AUROC")
        if np.isfinite(curves["best_epoch"][i]):
            best = curves["best_epoch"][i] + 1
            ax.axvline(best, color=color, linestyle=":", linewidth=1.0, label=f"{member} best epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if twin is not None:
        twin.set_ylabel("validation AUROC")
    # on the twin axes when there is one, so that no curve is drawn over the legend
    legend_axes = twin if twin is not None else ax
    legend_axes.legend(handles=_legend_handles(colors, has_val_loss, has_auroc), fontsize="small", framealpha=0.9)


def _legend_handles(colors: list[str], has_val_loss: bool, has_auroc: bool) -> list[Line2D]:
    styles = [("-", "training loss")]
    styles += [("--", "validation loss")] if has_val_loss else []
    styles += [("-.", "validation AUROC")] if has_auroc else []
    styles += [(":", "best epoch")]
    handles = [Line2D([], [], color="0.2", linestyle=style, label=label) for style, label in styles]
    if len(colors) > 1:
        handles += [Line2D([], [], color=c, linewidth=4, label=f"member {i + 1}") for i, c in enumerate(colors)]
    return handles
