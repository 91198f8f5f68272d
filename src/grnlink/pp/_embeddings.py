"""Gene embeddings (e.g. from a single-cell foundation model) aligned to ``var_names``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from anndata import AnnData

from .._io import SEPARATORS, read_table, table_suffix
from .._settings import info, warning
from .._validation import KEY, GeneIndex, InputError, _preview, check_args, check_finite, check_unique_var_names

EmbeddingTable = pd.DataFrame | np.ndarray | AnnData | tuple | str | os.PathLike


def _read_genes(genes: Sequence[str] | str | os.PathLike) -> list[str]:
    if isinstance(genes, str | os.PathLike):
        path = Path(genes)
        if not path.is_file():
            raise InputError(
                f"genes={str(genes)!r} is not a file; pass a list of symbols or a text file, one per line."
            )
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return [str(g) for g in genes]


def _has_header(path: Path) -> bool:
    """A first row whose cells after the symbol are all numbers is data, not a header."""
    first = read_table(path, what="embedding file", header=None, nrows=1, dtype=str).iloc[0, 1:]
    return pd.to_numeric(first, errors="coerce").isna().any()


def _read_file(path: str | os.PathLike, genes) -> tuple[pd.Index, np.ndarray | pd.DataFrame, str]:
    path = Path(path)
    what = f"embedding file {str(path)!r}"
    if not path.is_file():
        raise InputError(f"{what} does not exist. Pass an existing .csv/.tsv(.gz) or .npy file, or a DataFrame.")
    suffix = table_suffix(path)
    if suffix == ".npy":
        if genes is None:
            raise InputError(
                f"{what} is a .npy array without gene names. Pass genes= as a list of symbols "
                "or a text file with one symbol per line, in the order of the array's rows."
            )
        try:
            values = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as err:
            raise InputError(f"{what} is not a readable .npy array ({err}). Save it with np.save.") from err
        return pd.Index(_read_genes(genes)), values, what
    if suffix not in SEPARATORS:
        raise InputError(
            f"Cannot read {what}: use .csv (comma) or .tsv/.txt (tab), optionally gzipped, with the gene symbol "
            "in the first column, or a .npy array with genes=."
        )
    _no_genes(genes, "a .csv/.tsv table")
    table = read_table(path, what="embedding file", header=0 if _has_header(path) else None, index_col=0)
    return table.index, table, what


def _no_genes(genes, kind: str) -> None:
    if genes is not None:
        raise InputError(f"genes= is only used with a numpy array or a .npy file; {kind} names its genes itself.")


def _from_anndata(other: AnnData, key: str) -> tuple[pd.Index, np.ndarray, str]:
    if key not in other.varm:
        raise InputError(
            f"The AnnData given as table has no varm[{key!r}] (varm keys: {list(other.varm.keys())}). "
            "Pass (other_adata, 'varm_key') to choose one."
        )
    values = other.varm[key]
    if isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    elif hasattr(values, "toarray"):
        values = values.toarray()
    return other.var_names, np.asarray(values), f"other_adata.varm[{key!r}]"


def _as_table(table: EmbeddingTable, genes, key_added: str) -> tuple[pd.Index, np.ndarray, str]:
    """Symbols, raw values and a name for messages, from any accepted table kind."""
    if isinstance(table, AnnData):
        _no_genes(genes, "an AnnData")
        return _from_anndata(table, key_added)
    if isinstance(table, tuple):
        if len(table) != 2 or not isinstance(table[0], AnnData) or not isinstance(table[1], str):
            raise InputError("A tuple table must be (other_adata, 'varm_key').")
        _no_genes(genes, "an AnnData")
        return _from_anndata(*table)
    if isinstance(table, pd.DataFrame):
        _no_genes(genes, "a DataFrame")
        return table.index, table, "the embedding DataFrame"
    if isinstance(table, str | os.PathLike):
        return _read_file(table, genes)
    if isinstance(table, np.ndarray):
        if genes is None:
            raise InputError("A numpy array needs genes=: a list of symbols (or a text file), one per row.")
        return pd.Index(_read_genes(genes)), table, "the embedding array"
    raise InputError(
        f"table must be a DataFrame indexed by gene symbol, a .csv/.tsv(.gz) or .npy path, a numpy array "
        f"with genes=, or an AnnData; got {type(table).__name__}."
    )


def _numeric_values(values: np.ndarray | pd.DataFrame, n_symbols: int, what: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        bad = [c for c in values.columns if values[c].dtype.kind not in "biuf"]
        if bad:
            raise InputError(
                f"{what} has non-numeric columns {_preview(bad)}. Gene symbols belong in the index "
                "(table.set_index('gene')); every other column must be a number."
            )
        values = values.to_numpy()
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise InputError(f"{what} has dtype {values.dtype}; embeddings must be numeric.")
    if values.ndim != 2 or values.shape[1] < 1:
        raise InputError(f"{what} has shape {values.shape}; expected genes x d with d >= 1.")
    if values.shape[0] != n_symbols:
        raise InputError(
            f"{what} has {values.shape[0]} rows but {n_symbols} gene symbols were given; "
            "genes= must name every row, in order."
        )
    values = values.astype(np.float64, copy=False)
    check_finite(values, what)
    return values


def _rows_for_vars(symbols: pd.Index, var_names: pd.Index, what: str) -> np.ndarray:
    """Table row of every var (-1 where none); the first of duplicated symbols wins."""
    pos = GeneIndex(var_names).positions(symbols)
    dropped = (pos >= 0) & pd.Series(pos).duplicated().to_numpy()  # case variants landing on one gene count too
    dropped |= pd.Index(symbols).duplicated()
    if dropped.any():
        warning(
            f"{what} has {int(dropped.sum())} duplicated gene symbols ({_preview(pd.unique(symbols[dropped]))}); "
            "keeping the first row of each."
        )
    rows = np.full(len(var_names), -1, dtype=np.int64)
    first = (pos >= 0) & ~dropped
    rows[pos[first]] = np.flatnonzero(first)
    return rows


def gene_embeddings(
    adata: AnnData,
    table: EmbeddingTable,
    *,
    genes: Sequence[str] | str | os.PathLike | None = None,
    key_added: str = "X_scfm",
    copy: bool = False,
) -> AnnData | None:
    """Align a genes x d embedding table (e.g. scFM gene embeddings) to ``adata.var_names``.

    Symbols match exactly first, then ignoring case. Genes without an
    embedding get a row of zeros and ``False`` in the mask.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    table
        The embeddings, one of

        - a DataFrame indexed by gene symbol (genes x d, numeric columns);
        - a path to a ``.csv`` or ``.tsv``/``.txt`` file (optionally ``.gz``), gene symbol in the
          first column, with or without a header row;
        - a path to a ``.npy`` array, or a numpy array, together with ``genes``;
        - another AnnData, using its ``varm[key_added]`` aligned to its ``var_names``, or a tuple
          ``(other_adata, "varm_key")`` to choose the key.
    genes
        Symbols of the rows of a numpy array or ``.npy`` file: a list, or a text file with one
        symbol per line.
    key_added
        Where the result goes: ``adata.varm[key_added]`` and ``adata.var[f"{key_added}_mask"]``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or the modified copy when ``copy=True``. Writes

    - ``adata.varm[key_added]``: n_vars x d float32, zeros where a gene has no embedding;
    - ``adata.var[f"{key_added}_mask"]``: ``True`` where the table had the gene.

    Raises
    ------
    InputError
        Non-numeric or non-finite values, ``genes`` not matching the rows, no gene in common.
        ``adata`` is left untouched.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, seed=0)
    >>> table = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 16)), index=adata.var_names[:150].str.lower())
    >>> gl.pp.gene_embeddings(adata, table, key_added="X_scfm")
    >>> adata.varm["X_scfm"].shape, int(adata.var["X_scfm_mask"].sum())
    ((200, 16), 150)
    """
    check_args(key_added=(key_added, KEY))
    check_unique_var_names(adata)
    symbols, raw, what = _as_table(table, genes, key_added)
    symbols = pd.Index([str(s) for s in symbols])
    values = _numeric_values(raw, len(symbols), what)
    rows = _rows_for_vars(symbols, adata.var_names, what)
    found = rows >= 0
    n_found = int(found.sum())
    if n_found == 0:
        raise InputError(
            f"{what} shares no gene with adata.var_names (table: {_preview(symbols)}; "
            f"var_names: {_preview(adata.var_names)}). Index the table by gene symbol (table.set_index('gene')), "
            "and check the organism and whether var_names hold Ensembl ids."
        )

    embedding = np.zeros((adata.n_vars, values.shape[1]), dtype=np.float32)
    embedding[found] = values[rows[found]]
    adata = adata.copy() if copy else adata
    adata.varm[key_added] = embedding
    adata.var[f"{key_added}_mask"] = found
    info(
        f"embeddings: {n_found} of {adata.n_vars} genes ({100 * n_found / adata.n_vars:.1f}%) found in the table "
        f"-> adata.varm[{key_added!r}] ({values.shape[1]} dims)"
    )
    return adata if copy else None
