"""Mean expression of every gene in every group of cells (cell types, clusters)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._io import expression
from .._settings import info
from .._validation import KEY, InputError, check_args, check_finite, check_groupby


def _group_codes(labels: pd.Series | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Integer group code per cell and the group names (categorical order, else sorted)."""
    series = labels if isinstance(labels, pd.Series) else pd.Series(np.asarray(labels))
    if series.isna().any():
        raise InputError(
            f"labels hold {int(series.isna().sum())} missing values. "
            "Give every cell a group (or subset to labelled cells) first."
        )
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.cat.remove_unused_categories()
        names = [str(c) for c in series.cat.categories]
        # two categories may print the same (1 and "1"); group on the printed name
        if len(set(names)) == len(names):
            return series.cat.codes.to_numpy(dtype=np.int64), names
    as_str = series.astype(str)
    names = sorted(as_str.unique())
    codes = pd.Categorical(as_str, categories=names).codes.astype(np.int64)
    return codes, names


def _row_ranges(X, chunk_size: int) -> Iterator[tuple[int, int]]:
    """Row ranges to read; a dask array is read along its own row chunks."""
    dask_chunks = getattr(X, "chunks", None)
    if hasattr(X, "compute") and isinstance(dask_chunks, tuple) and dask_chunks and isinstance(dask_chunks[0], tuple):
        start = 0
        for size in dask_chunks[0]:
            yield start, start + size
            start += size
        return
    n_rows = X.shape[0]
    for start in range(0, n_rows, chunk_size):
        yield start, min(start + chunk_size, n_rows)


def _read_rows(X, start: int, stop: int) -> np.ndarray | sp.csr_matrix:
    """Rows ``start:stop`` of ``X`` in memory, as a dense array or a CSR matrix."""
    if sp.issparse(X) and X.format == "csr":
        # scipy's row slice converts the whole index array when indptr and indices differ in dtype
        # (int64 / int32, as anndata writes large matrices): 100x slower per slice than cutting the arrays
        lo, hi = X.indptr[start], X.indptr[stop]
        return sp.csr_matrix(
            (X.data[lo:hi], X.indices[lo:hi], X.indptr[start : stop + 1] - lo), shape=(stop - start, X.shape[1])
        )
    chunk = X[start:stop]
    if hasattr(chunk, "compute"):
        chunk = chunk.compute()
    if sp.issparse(chunk):
        return sp.csr_matrix(chunk)
    return np.asarray(chunk)


def _check_chunk(chunk: np.ndarray | sp.csr_matrix, what: str, start: int, stop: int) -> None:
    values = chunk.data if sp.issparse(chunk) else chunk
    if values.dtype.kind not in "biuf":
        raise InputError(f"{what} has dtype {values.dtype}; expression values must be numeric.")
    check_finite(values, f"{what} (rows {start} to {stop - 1})")


def group_means(
    X,
    labels: pd.Series | np.ndarray,
    *,
    chunk_size: int = 2000,
    what: str = "X",
) -> tuple[np.ndarray, list[str]]:
    """Mean of every column of ``X`` within each group of rows, reading ``X`` in row chunks.

    The full matrix is never made dense: each chunk of rows is multiplied by a
    sparse group-indicator matrix and the sums are accumulated.

    Parameters
    ----------
    X
        Cells x genes matrix: a numpy array, a scipy sparse matrix, a backed
        dataset (``adata.X`` of an AnnData read with ``backed="r"``) or a dask
        array (computed one row chunk at a time).
    labels
        Group of each row (length ``X.shape[0]``). A categorical keeps its
        category order; other labels are sorted as strings.
    chunk_size
        Rows read at a time (dask arrays use their own row chunks).
    what
        Name of the matrix in error messages, e.g. ``"adata.layers['counts']"``.

    Returns
    -------
    Genes x groups means (float32) and the group names in column order.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink.pp import group_means
    >>> means, groups = group_means(np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]]), np.array(["b", "b", "a"]))
    >>> groups
    ['a', 'b']
    >>> means
    array([[5., 2.],
           [5., 1.]], dtype=float32)
    """
    if chunk_size < 1:
        raise InputError(f"chunk_size must be a positive number of rows, got {chunk_size}.")
    if len(X.shape) != 2:
        raise InputError(f"{what} must be a 2-d cells x genes matrix, got shape {tuple(X.shape)}.")
    n_cells, n_genes = X.shape
    if len(labels) != n_cells:
        raise InputError(f"labels has {len(labels)} entries but {what} has {n_cells} rows; give one label per cell.")
    codes, names = _group_codes(labels)
    if isinstance(X, sp.coo_matrix | sp.coo_array):
        X = X.tocsr()  # COO cannot be sliced by rows; CSR keeps it sparse

    indicator = sp.csr_matrix(
        (np.ones(n_cells, dtype=np.float64), (codes, np.arange(n_cells))), shape=(len(names), n_cells)
    )
    sums = np.zeros((len(names), n_genes), dtype=np.float64)
    for start, stop in _row_ranges(X, chunk_size):
        chunk = _read_rows(X, start, stop)
        _check_chunk(chunk, what, start, stop)
        part = indicator[:, start:stop] @ chunk
        sums += part.toarray() if sp.issparse(part) else np.asarray(part)
    counts = np.bincount(codes, minlength=len(names)).astype(np.float64)
    return (sums / counts[:, None]).T.astype(np.float32), names


def celltype_means(
    adata: AnnData,
    groupby: str,
    *,
    layer: str | None = None,
    key_added: str = "celltype_means",
    copy: bool = False,
) -> AnnData | None:
    """Mean expression of every gene in every cell type, as gene features.

    Works on dense, sparse, backed (``backed="r"``) and dask expression without
    making the whole matrix dense.

    Parameters
    ----------
    adata
        Cells x genes AnnData.
    groupby
        Column of ``adata.obs`` holding cell types or clusters (at least two groups).
        A categorical keeps its category order; other columns are sorted.
    layer
        Layer to average; ``None`` uses ``adata.X``.
    key_added
        Where the result goes in ``adata.varm`` and ``adata.uns``.
    copy
        Return a modified copy instead of writing into ``adata``.

    Returns
    -------
    ``None``, or the modified copy when ``copy=True``. Writes

    - ``adata.varm[key_added]``: genes x groups means (float32);
    - ``adata.uns[key_added]``: ``{"groups": group names in column order,
      "groupby": groupby, "layer": layer or "X"}``.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=200, n_tfs=20, n_cells=500, n_celltypes=4, seed=0)
    >>> gl.pp.celltype_means(adata, "cell_type")
    >>> adata.varm["celltype_means"].shape
    (200, 4)
    >>> len(adata.uns["celltype_means"]["groups"])  # group names, in column order
    4
    """
    check_args(key_added=(key_added, KEY))
    X, what = expression(adata, layer)
    check_groupby(adata, groupby)
    if copy and adata.isbacked:
        raise InputError(
            "copy=True is not possible for a backed AnnData (it would load the whole matrix). "
            "Use copy=False, or load it first with adata.to_memory()."
        )
    means, groups = group_means(X, adata.obs[groupby], what=what)

    adata = adata.copy() if copy else adata
    adata.varm[key_added] = means
    adata.uns[key_added] = {"groups": np.asarray(groups, dtype=object), "groupby": groupby, "layer": layer or "X"}
    info(
        f"celltype_means: {adata.n_vars} genes x {len(groups)} groups of adata.obs[{groupby!r}] from {what} "
        f"-> adata.varm[{key_added!r}]"
    )
    return adata if copy else None


def stored_celltype_means(adata: AnnData, groupby: str, layer: str | None) -> tuple[str, np.ndarray] | None:
    """``(key, means)`` that :func:`celltype_means` wrote for this ``groupby`` and ``layer``, or ``None``.

    An entry counts only when its groups are still the groups of
    ``adata.obs[groupby]``, in the same order, and its ``varm`` matrix has one
    row per gene and one column per group.
    """
    current = None
    for key, entry in adata.uns.items():
        if not isinstance(entry, Mapping) or key not in adata.varm or "groups" not in entry:
            continue
        if entry.get("groupby") != groupby or entry.get("layer") != (layer or "X"):
            continue
        groups = [str(g) for g in np.asarray(entry["groups"])]
        current = _group_codes(adata.obs[groupby])[1] if current is None else current
        if groups == current and adata.varm[key].shape == (adata.n_vars, len(groups)):
            return str(key), np.asarray(adata.varm[key], dtype=np.float32)
    return None
