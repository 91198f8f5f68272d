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

from .._settings import info
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
        ``True`` saves to ``scanpy.settings.figdir`` under the plot's name (e.g. ``roc_curve.pdf``,
        in ``scanpy.settings.file_format_figs``); a string with an image extension is the file name
        in ``figdir``, any other string a suffix of the default name."""
# the file formats matplotlib writes (FigureCanvasBase.get_supported_filetypes)
IMAGE_FORMATS = frozenset("avif eps gif jpeg jpg pdf pgf png ps raw rgba svg svgz tif tiff webp".split())


def doc_params(**blocks: str) -> Callable:
    """Decorator putting shared text in place of ``{name}`` in a docstring (as scanpy's ``_doc_params``)."""

    def fill(func: Callable) -> Callable:
        for name, text in blocks.items():
            func.__doc__ = func.__doc__.replace("{" + name + "}", text)
        return func

    return fill


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] = (4.5, 4.0)) -> tuple[Axes, bool]:
    """The given Axes, or a new figure's; the flag says whether the figure was made here."""
    if ax is not None:
        return ax, False
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax, True


def save_path(name: str, save: bool | str | None) -> Path | None:
    """Where ``save`` asks a plot called ``name`` to go, scanpy's way; ``None`` when not saving.

    ``True`` gives ``figdir / f"{name}.{file_format_figs}"``; a string ending in an
    image extension is the file name inside ``figdir``; any other string is a
    suffix of the default name (``"_held_out"`` gives ``roc_curve_held_out.pdf``).
    """
    if save is None or save is False:
        return None
    figdir = Path(sc.settings.figdir)
    fmt = str(sc.settings.file_format_figs).lstrip(".")
    suffix = str(getattr(sc.settings, "plot_suffix", "") or "")
    if save is True:
        return figdir / f"{name}{suffix}.{fmt}"
    if not isinstance(save, str):
        raise InputError(f"save must be None, True, False or a string, got {type(save).__name__}.")
    if Path(save).suffix.lstrip(".").lower() in IMAGE_FORMATS:
        return figdir / save
    return figdir / f"{name}{save}{suffix}.{fmt}"


def show_or_save(ax: Axes, name: str, *, show: bool | None, save: bool | str | None, created: bool) -> Axes | None:
    """Save and/or show the figure of ``ax``; return ``ax`` unless it was shown.

    ``show=None`` follows ``scanpy.settings.autoshow``. A figure this package
    created is closed after saving when it is not shown; a figure passed in via
    ``ax=`` is never closed.
    """
    path = save_path(name, save)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(path, bbox_inches="tight")
        info(f"saved figure to {path}")
    show = sc.settings.autoshow if show is None else show
    if show:
        plt.show()
        return None
    if path is not None and created:
        plt.close(ax.figure)
    return ax


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
