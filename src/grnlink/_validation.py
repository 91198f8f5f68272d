"""Input checks shared by every public function.

Every check raises :class:`InputError` with a message that names the problem
and the fix. Checks only read their inputs; they never modify an AnnData.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from anndata import AnnData


class InputError(ValueError):
    """Bad user input: the message says what is wrong and how to fix it."""


def _preview(items: Iterable, n: int = 5) -> str:
    items = list(items)
    shown = ", ".join(repr(x) for x in items[:n])
    return shown + (f", ... ({len(items)} in all)" if len(items) > n else "")


def check_unique_var_names(adata: AnnData) -> None:
    """Raise when ``var_names`` has duplicates (genes would be ambiguous)."""
    if not adata.var_names.is_unique:
        dups = adata.var_names[adata.var_names.duplicated()].unique()
        raise InputError(
            f"adata.var_names has {len(dups)} duplicated gene names ({_preview(dups)}). "
            "Make them unique first, e.g. adata.var_names_make_unique()."
        )


def check_edge_table(table: pd.DataFrame, what: str) -> None:
    """Raise unless ``table`` is a DataFrame with ``source`` and ``target`` columns."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(
            f"{what} must be a pandas DataFrame with columns 'source' and 'target', got {type(table).__name__}."
        )
    missing = [c for c in ("source", "target") if c not in table.columns]
    if missing:
        raise InputError(
            f"{what} lacks the column(s) {missing}; it has {list(table.columns)}. "
            "Rename the TF column to 'source' and the target-gene column to 'target', "
            "e.g. table.rename(columns={'tf': 'source', 'gene': 'target'})."
        )


def check_finite(values: np.ndarray, what: str) -> None:
    """Raise when ``values`` holds NaN or infinite entries."""
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        n_bad = int((~np.isfinite(values)).sum())
        raise InputError(
            f"{what} contains {n_bad} NaN or infinite values. Remove or impute them "
            "(e.g. np.nan_to_num on a copy in a new layer, then pass layer=...)."
        )


def check_groupby(adata: AnnData, groupby: str) -> pd.Series:
    """Return ``adata.obs[groupby]`` as strings, raising when it is missing or has one group."""
    if groupby not in adata.obs.columns:
        raise InputError(
            f"groupby={groupby!r} is not a column of adata.obs (columns: {_preview(adata.obs.columns, 10)}). "
            "Pass the name of an obs column holding cell types or clusters, e.g. groupby='cell_type'."
        )
    labels = adata.obs[groupby]
    if labels.isna().any():
        raise InputError(
            f"adata.obs[{groupby!r}] has {int(labels.isna().sum())} missing labels. "
            "Give every cell a group (or subset to labelled cells) before using it as groupby."
        )
    n_groups = labels.astype(str).nunique()
    if n_groups < 2:
        raise InputError(
            f"adata.obs[{groupby!r}] has {n_groups} group; cell-type means need at least two. "
            "Pass a column with several cell types or clusters, or leave groupby=None."
        )
    return labels.astype(str)


def check_embedding(adata: AnnData, embedding_key: str) -> np.ndarray:
    """Return ``adata.varm[embedding_key]`` as a dense float array after checking it."""
    if embedding_key not in adata.varm:
        raise InputError(
            f"embedding_key={embedding_key!r} is not in adata.varm (keys: {list(adata.varm.keys())}). "
            "Load gene embeddings first with gl.pp.gene_embeddings(adata, table, key_added=...)."
        )
    emb = adata.varm[embedding_key]
    emb = (
        emb.to_numpy()
        if isinstance(emb, pd.DataFrame)
        else np.asarray(emb.toarray() if hasattr(emb, "toarray") else emb)
    )
    if emb.ndim != 2 or emb.shape[0] != adata.n_vars or emb.shape[1] < 1:
        raise InputError(
            f"adata.varm[{embedding_key!r}] has shape {emb.shape}; expected (n_vars={adata.n_vars}, d) with d >= 1. "
            "Re-create it with gl.pp.gene_embeddings so that rows follow adata.var_names."
        )
    if emb.dtype.kind not in "fiub":
        raise InputError(f"adata.varm[{embedding_key!r}] has dtype {emb.dtype}; gene embeddings must be numeric.")
    check_finite(emb.astype(np.float64, copy=False), f"adata.varm[{embedding_key!r}]")
    return emb


class GeneIndex:
    """Maps gene symbols to positions in ``var_names``: exact match first, then case-insensitive.

    Mouse symbols in DoRothEA are mixed case (``Irf1``) while BEELINE uses upper case
    (``IRF1``); both must land on the same gene. A case-insensitive key shared by
    several var_names is ambiguous and only matches exactly.
    """

    def __init__(self, var_names: Sequence[str]):
        self.var_names = pd.Index([str(v) for v in var_names])
        self._exact = {name: i for i, name in enumerate(self.var_names)}
        folded = pd.Series(np.arange(len(self.var_names)), index=self.var_names.str.upper())
        unique_folded = folded[~folded.index.duplicated(keep=False)]
        self._folded = dict(zip(unique_folded.index, unique_folded.to_numpy()))

    def positions(self, symbols: Iterable) -> np.ndarray:
        """Positions of ``symbols`` in var_names, -1 where a symbol does not map."""
        out = []
        for sym in symbols:
            sym = str(sym)
            pos = self._exact.get(sym)
            if pos is None:
                pos = self._folded.get(sym.upper(), -1)
            out.append(pos)
        return np.asarray(out, dtype=np.int64)

    def positions_or_raise(self, symbols: Sequence, what: str) -> np.ndarray:
        """Like :meth:`positions`, raising :class:`InputError` naming genes not in var_names."""
        pos = self.positions(symbols)
        if (pos < 0).any():
            unknown = pd.unique(np.asarray(symbols, dtype=object)[pos < 0])
            raise InputError(
                f"{what} names {len(unknown)} gene(s) not in adata.var_names: {_preview(unknown)}. "
                "Drop those rows or use symbols that match adata.var_names (matching ignores case)."
            )
        return pos
