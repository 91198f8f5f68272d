"""The expression-shuffled control: each gene keeps its values, no gene co-varies with another."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest
import scipy.sparse as sp

import grnlink as gl


@pytest.fixture
def adata(simulated):
    data = simulated(n_genes=60, n_tfs=6, n_cells=400, n_celltypes=3, seed=0)
    data.obsm["X_pca"] = np.zeros((data.n_obs, 2))
    return data


def _dense(matrix) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


@pytest.mark.parametrize("sparse", [True, False])
def test_each_gene_keeps_its_values_and_loses_its_co_expression(adata, sparse):
    if not sparse:
        adata.X, adata.layers["counts"] = _dense(adata.X), _dense(adata.layers["counts"])
    before = adata.copy()
    shuffled = gl.bm.shuffle_expression(adata, seed=0)
    x, counts = _dense(adata.X), _dense(adata.layers["counts"])
    new_x, new_counts = _dense(shuffled.X), _dense(shuffled.layers["counts"])
    assert sp.issparse(shuffled.X) == sparse
    np.testing.assert_allclose(np.sort(new_x, axis=0), np.sort(x, axis=0))
    # one permutation per gene, shared by X and the layers: a cell's count and its log value stay together
    for j in range(adata.n_vars):
        order = np.lexsort((x[:, j], counts[:, j]))
        new_order = np.lexsort((new_x[:, j], new_counts[:, j]))
        np.testing.assert_allclose(new_counts[new_order, j], counts[order, j])
        np.testing.assert_allclose(new_x[new_order, j], x[order, j])
    varied = x.std(axis=0) > 0
    corr_before = np.corrcoef(x[:, varied].T)[np.triu_indices(varied.sum(), 1)]
    corr_after = np.corrcoef(new_x[:, varied].T)[np.triu_indices(varied.sum(), 1)]
    chance = np.sqrt(2 / np.pi / adata.n_obs)  # mean |r| of two independent genes
    assert np.abs(corr_before).mean() > 1.5 * chance
    assert np.abs(corr_after).mean() < 1.15 * chance
    assert "X_pca" not in shuffled.obsm  # computed from the unshuffled cells
    assert shuffled.obs.equals(adata.obs) and shuffled.var.equals(adata.var)
    np.testing.assert_array_equal(_dense(adata.X), _dense(before.X))  # the input is untouched
    assert "X_pca" in adata.obsm


def test_same_seed_same_copy_other_seed_other_copy(adata):
    first, again = gl.bm.shuffle_expression(adata, seed=3), gl.bm.shuffle_expression(adata, seed=3)
    other = gl.bm.shuffle_expression(adata, seed=4)
    np.testing.assert_array_equal(_dense(first.X), _dense(again.X))
    assert not np.array_equal(_dense(first.X), _dense(other.X))


def test_backed_data_raise_a_clear_error(adata, tmp_path):
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    with pytest.raises(gl.InputError, match="to_memory"):
        gl.bm.shuffle_expression(backed)
    backed.file.close()


@pytest.mark.parametrize("bad", [{"seed": -1}, {"seed": "0"}, {"seed": 1.5}])
def test_bad_seed_raises_before_any_work(adata, bad):
    with pytest.raises(gl.InputError, match="seed"):
        gl.bm.shuffle_expression(adata, **bad)


def test_not_an_anndata_raises(adata):
    with pytest.raises(gl.InputError, match="AnnData"):
        gl.bm.shuffle_expression(adata.X)
