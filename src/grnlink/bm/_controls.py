"""Shortcut controls: scores that know nothing but the training graph's degrees, and expression that says nothing
about the network."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from anndata import AnnData

from .._pairs import edge_degrees
from .._validation import SEED, InputError, check_args


def degree_scores(train_edges: pd.DataFrame, pairs: pd.DataFrame) -> np.ndarray:
    """Score = the TF's plus the target's number of training edges.

    A model that does not beat this control has learned which genes are hubs,
    not which genes a TF regulates.

    Parameters
    ----------
    train_edges
        Training positives (``source``, ``target``), e.g. ``split.prior``; the
        degrees are counted over them only.
    pairs
        Pairs to score (``source``, ``target``), e.g. ``split.test``.

    Returns
    -------
    One float per row of ``pairs``: the TF's out-degree plus the target's
    in-degree among ``train_edges`` (0 for a gene without training edges).

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> train = pd.DataFrame({"source": ["A", "A", "B"], "target": ["x", "y", "x"]})
    >>> pairs = pd.DataFrame({"source": ["A", "B", "C"], "target": ["x", "y", "z"]})
    >>> gl.bm.degree_scores(train, pairs).tolist()
    [4.0, 2.0, 0.0]
    """
    source, target = train_edges["source"].astype(str), train_edges["target"].astype(str)
    genes = pd.Index(pd.unique(pd.concat([source, target], ignore_index=True)))
    out_degree, in_degree = edge_degrees(genes.get_indexer(source), genes.get_indexer(target), len(genes))
    return _degree_of(out_degree, genes, pairs["source"]) + _degree_of(in_degree, genes, pairs["target"])


def _degree_of(degree: np.ndarray, genes: pd.Index, names: pd.Series) -> np.ndarray:
    """``degree`` of each of ``names`` by its position in ``genes``; 0 for a name not among them."""
    position = genes.get_indexer(names.astype(str))
    return np.where(position >= 0, degree[np.maximum(position, 0)], 0.0) if len(degree) else np.zeros(len(names))


def shuffle_expression(adata: AnnData, *, seed: int = 0) -> AnnData:
    """A copy of ``adata`` whose every gene has its values permuted across cells, each gene independently.

    Each gene keeps its own distribution (mean, variance, dropout) but no
    longer co-varies with any other gene, so the expression says nothing about
    the network while the prior, the gene names and any gene embedding in
    ``varm`` are unchanged. A model fitted on the copy that scores held-out
    pairs as well as on the original has not read the expression: its
    accuracy came from the prior's structure. ``X`` and every layer get the
    same permutation per gene (so ``layers["counts"]`` still matches ``X``);
    ``obs`` (cell types, conditions) stays in place. ``obsm`` and ``obsp`` are
    dropped: they were computed from the unshuffled expression.

    Parameters
    ----------
    adata
        Cells x genes; left unchanged.
    seed
        Seeds the permutations: the same seed gives the same copy.

    Returns
    -------
    The shuffled copy.

    Examples
    --------
    >>> import numpy as np
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=60, n_tfs=6, n_cells=100, n_celltypes=2, seed=0)
    >>> shuffled = gl.bm.shuffle_expression(adata, seed=0)
    >>> bool(np.allclose(np.sort(adata.X.toarray(), axis=0), np.sort(shuffled.X.toarray(), axis=0)))
    True
    """
    if not isinstance(adata, AnnData):
        raise InputError(f"shuffle_expression needs an AnnData (cells x genes), got {type(adata).__name__}.")
    check_args(seed=(seed, SEED))
    if adata.isbacked:
        raise InputError(
            "shuffle_expression needs the expression in memory, but adata is backed by a file: "
            "pass adata.to_memory() (or a subset of it)."
        )
    out = adata.copy()
    matrices = {None: _column_major(out.X), **{key: _column_major(out.layers[key]) for key in out.layers.keys()}}
    rng = np.random.default_rng(seed)
    for gene in range(out.n_vars):
        order = rng.permutation(out.n_obs)  # one permutation per gene, shared by X and every layer
        for matrix in matrices.values():
            _permute_column(matrix, gene, order)
    for key, matrix in matrices.items():
        original = adata.X if key is None else adata.layers[key]
        permuted = matrix.asformat(original.format) if sp.issparse(original) else matrix
        if key is None:
            out.X = permuted
        else:
            out.layers[key] = permuted
    for key in list(out.obsm.keys()):
        del out.obsm[key]
    for key in list(out.obsp.keys()):
        del out.obsp[key]
    return out


def _column_major(matrix):
    """A copy of ``matrix`` whose columns can be permuted in place: CSC when sparse, a Fortran array when dense."""
    return sp.csc_matrix(matrix, copy=True) if sp.issparse(matrix) else np.array(matrix, copy=True, order="F")


def _permute_column(matrix, j: int, order: np.ndarray) -> None:
    """Column ``j`` of ``matrix`` (from :func:`_column_major`) becomes its values read in the row order ``order``."""
    if sp.issparse(matrix):
        destination = np.empty_like(order)
        destination[order] = np.arange(len(order))  # the row each value moves to
        start, stop = matrix.indptr[j], matrix.indptr[j + 1]
        rows = destination[matrix.indices[start:stop]]
        keep = np.argsort(rows)
        matrix.indices[start:stop] = rows[keep]
        matrix.data[start:stop] = matrix.data[start:stop][keep]
    else:
        matrix[:, j] = matrix[order, j]
