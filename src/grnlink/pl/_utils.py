"""Helpers shared by every plot: axes, show/save, and reading what a fit stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scanpy as sc
from anndata import AnnData
from matplotlib.axes import Axes

from .._settings import warning
from .._validation import GeneIndex, InputError
from ..tl._store import load_fitted

PRIOR_COLOR = "#1f77b4"
NOVEL_COLOR = "#ff7f0e"
PRIOR_LABEL = "in prior"
NOVEL_LABEL = "novel"
# parameter descriptions shared by the plots' docstrings (filled in by doc_params)
DOC_AX_SHOW_SAVE = """ax
        Axes to draw into; ``None`` draws into a new figure.
    show
        Show the figure; ``None`` follows ``scanpy.settings.autoshow``.
    save
        As in scanpy: ``True`` saves to ``scanpy.settings.figdir`` as
        ``{plot name}{scanpy.settings.plot_suffix}.{scanpy.settings.file_format_figs}``
        (e.g. ``roc_curve.pdf``); a string is appended to the plot name, and when it
        ends in ``.pdf``, ``.png`` or ``.svg`` that ending sets the format
        (``save="_held_out.png"`` writes ``roc_curve_held_out.png``); ``None``
        follows ``scanpy.settings.autosave``. A saved figure is closed after it is
        saved (and shown)."""
# the endings scanpy's savefig_or_show reads as a file format in `save`
SAVE_FORMATS = (".svg", ".pdf", ".png")


def doc_params(**blocks: str) -> Callable:
    """Decorator putting shared text in place of ``{name}`` in a docstring (as scanpy's ``_doc_params``)."""

    def fill(func: Callable) -> Callable:
        for name, text in blocks.items():
            func.__doc__ = func.__doc__.replace("{" + name + "}", text)
        return func

    return fill


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] = (4.5, 4.0)) -> Axes:
    """The given Axes, or the Axes of a new figure of ``figsize``."""
    if ax is not None:
        return ax
    return plt.subplots(figsize=figsize)[1]


def save_path(name: str, save: bool | str | None) -> Path | None:
    """Where ``save`` asks a plot called ``name`` to go by scanpy's rules; ``None`` when not saving.

    Follows :mod:`scanpy.plotting`'s ``savefig_or_show``: ``None`` means
    ``scanpy.settings.autosave``; a string is appended to ``name`` after a
    trailing ``.svg``, ``.pdf`` or ``.png`` is taken off it as the format; the
    file is ``figdir / f"{name}{plot_suffix}.{format}"``, the format being
    ``scanpy.settings.file_format_figs`` unless ``save`` named one.

    Examples
    --------
    >>> import scanpy as sc
    >>> from grnlink.pl._utils import save_path
    >>> sc.settings.figdir, sc.settings.file_format_figs = "figures", "pdf"
    >>> save_path("roc_curve", True).as_posix(), save_path("roc_curve", "_held_out.png").as_posix()
    ('figures/roc_curve.pdf', 'figures/roc_curve_held_out.png')
    """
    save = sc.settings.autosave if save is None else save
    if not isinstance(save, bool | str):
        raise InputError(f"save must be None, True, False or a string, got {type(save).__name__}.")
    if save is False:
        return None
    fmt = None
    if isinstance(save, str):
        for ending in SAVE_FORMATS:
            if save.endswith(ending):
                fmt, save = ending[1:], save.replace(ending, "")
                break
        name += save
    fmt = fmt or str(sc.settings.file_format_figs)
    return Path(sc.settings.figdir) / f"{name}{sc.settings.plot_suffix}.{fmt}"


def show_or_save(ax: Axes, name: str, *, show: bool | None, save: bool | str | None) -> Axes | None:
    """Save and/or show the figure of ``ax`` as scanpy does; return ``ax`` unless it was shown.

    Saving logs the file name as a warning (as scanpy does), then the figure
    is shown when ``show`` (``None``: ``scanpy.settings.autoshow``) and closed
    when it was saved, also when it was passed in via ``ax=``.
    """
    path = save_path(name, save)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        warning(f"saving figure to file {path}")
        ax.figure.savefig(path, bbox_inches="tight")
    show = sc.settings.autoshow if show is None else show
    if show:
        plt.show()
    if path is not None:
        plt.close(ax.figure)
    return None if show else ax


def fitted_entry(adata: AnnData, key: str) -> dict[str, Any]:
    """``adata.uns[key]`` when it holds a fitted model; the usual clear error otherwise."""
    entry = adata.uns.get(key)
    if not isinstance(entry, dict) or "model" not in entry or "genes" not in entry:
        load_fitted(adata, key)  # raises the error that says to run gl.tl.grn_fit first
    return entry


def stored_edges(adata: AnnData, key: str) -> pd.DataFrame:
    """The edge table written by the last ``gl.tl.grn_predict`` under ``key`` (not a copy: read only)."""
    edges = fitted_entry(adata, key).get("edges")
    if not isinstance(edges, pd.DataFrame) or len(edges) == 0:
        raise InputError(
            f"adata.uns[{key!r}] holds no scored edges. Run gl.tl.grn_predict(adata, key={key!r}) first"
            " (or pass pairs= to score the pairs to plot)."
        )
    return edges


def gene_positions(names: Sequence | pd.Series, index: GeneIndex) -> np.ndarray:
    """Positions of gene names (compared as strings) in ``index``; -1 where unknown. One lookup per distinct name."""
    values = names.array if isinstance(names, pd.Series) else names
    categorical = values if isinstance(values, pd.Categorical) else pd.Categorical(np.asarray(values, dtype=object))
    codes = np.asarray(categorical.codes, dtype=np.int64)
    per_category = np.append(index.positions(categorical.categories.astype(str)), -1)
    return per_category[codes]  # code -1 (missing) picks the appended -1
