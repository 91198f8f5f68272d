from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from grnlink._validation import InputError
from grnlink.pp import celltype_means, group_means

GROUPS = ["T", "B", "NK"]  # deliberately not sorted: categorical order must be kept


def _adata(sparse: bool = False, n_cells: int = 60, n_genes: int = 12) -> ad.AnnData:
    rng = np.random.default_rng(0)
    X = rng.poisson(2.0, size=(n_cells, n_genes)).astype(np.float32)
    labels = pd.Categorical(rng.choice(GROUPS, size=n_cells), categories=GROUPS)
    obs = pd.DataFrame({"cell_type": labels}, index=[f"c{i}" for i in range(n_cells)])
    var = pd.DataFrame(index=[f"g{j}" for j in range(n_genes)])
    return ad.AnnData(sp.csr_matrix(X) if sparse else X, obs=obs, var=var)


def _reference(adata: ad.AnnData, groupby: str = "cell_type") -> pd.DataFrame:
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    frame = pd.DataFrame(X.astype(np.float64), index=adata.obs_names, columns=adata.var_names)
    return frame.groupby(adata.obs[groupby], observed=True).mean().T  # genes x groups, categorical order


def test_celltype_means_matches_pandas_groupby():
    adata = _adata()
    celltype_means(adata, "cell_type")
    ref = _reference(adata)
    means = adata.varm["celltype_means"]
    assert means.dtype == np.float32
    assert list(adata.uns["celltype_means"]["groups"]) == list(ref.columns) == GROUPS
    np.testing.assert_allclose(means, ref.to_numpy(), rtol=1e-6)
    assert adata.uns["celltype_means"]["groupby"] == "cell_type"
    assert adata.uns["celltype_means"]["layer"] == "X"


def test_celltype_means_sparse_equals_dense():
    dense, sparse = _adata(sparse=False), _adata(sparse=True)
    celltype_means(dense, "cell_type")
    celltype_means(sparse, "cell_type")
    np.testing.assert_array_equal(dense.varm["celltype_means"], sparse.varm["celltype_means"])


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_celltype_means_backed_equals_dense(tmp_path, sparse):
    adata = _adata(sparse=sparse)
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    try:
        celltype_means(backed, "cell_type", key_added="means")
        celltype_means(adata, "cell_type", key_added="means")
        np.testing.assert_array_equal(backed.varm["means"], adata.varm["means"])
        np.testing.assert_allclose(backed.varm["means"], _reference(adata).to_numpy(), rtol=1e-6)
        assert list(backed.uns["means"]["groups"]) == GROUPS
    finally:
        backed.file.close()


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_group_means_backed_reads_in_row_chunks(tmp_path, sparse):
    adata = _adata(sparse=sparse, n_cells=53)
    path = tmp_path / "cells.h5ad"
    adata.write_h5ad(path)
    backed = ad.read_h5ad(path, backed="r")
    try:
        means, groups = group_means(backed.X, adata.obs["cell_type"], chunk_size=7)
    finally:
        backed.file.close()
    np.testing.assert_allclose(means, _reference(adata).to_numpy(), rtol=1e-6)
    assert groups == GROUPS


@pytest.mark.parametrize("chunk_size", [1, 7, 10_000])
def test_group_means_chunk_size_does_not_change_result(chunk_size):
    adata = _adata(sparse=True, n_cells=41)
    means, _ = group_means(adata.X, adata.obs["cell_type"], chunk_size=chunk_size)
    np.testing.assert_allclose(means, _reference(adata).to_numpy(), rtol=1e-6)


def test_group_means_reads_csr_with_mixed_index_dtypes_row_chunk_by_chunk():
    adata = _adata(sparse=True, n_cells=41)
    X = adata.X.copy()
    X.indptr, X.indices = X.indptr.astype(np.int64), X.indices.astype(np.int32)  # as anndata writes large files
    means, _ = group_means(X, adata.obs["cell_type"], chunk_size=6)
    np.testing.assert_array_equal(means, group_means(adata.X.toarray(), adata.obs["cell_type"], chunk_size=6)[0])


def test_group_means_sorts_plain_labels_and_accepts_arrays():
    X = np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]])
    means, groups = group_means(X, np.array(["b", "b", "a"]))
    assert groups == ["a", "b"]
    np.testing.assert_array_equal(means, np.array([[5.0, 2.0], [5.0, 1.0]], dtype=np.float32))


def test_group_means_accepts_coo_and_integer_counts():
    X = np.array([[1, 0], [3, 2], [5, 5]], dtype=np.int64)
    means, _ = group_means(sp.coo_matrix(X), pd.Series(["b", "b", "a"]))
    np.testing.assert_array_equal(means, np.array([[5.0, 2.0], [5.0, 1.0]], dtype=np.float32))


def test_group_means_dask_equals_dense():
    da = pytest.importorskip(
        "dask.array", reason="dask is not installed: pip install 'grnlink[dask]' (the `dask` extra)"
    )
    adata = _adata(n_cells=50)
    lazy = da.from_array(adata.X, chunks=(13, 12))
    means, _ = group_means(lazy, adata.obs["cell_type"])
    np.testing.assert_allclose(means, _reference(adata).to_numpy(), rtol=1e-6)


def test_celltype_means_uses_layer():
    adata = _adata()
    adata.layers["double"] = adata.X * 2
    celltype_means(adata, "cell_type", layer="double", key_added="double_means")
    np.testing.assert_allclose(adata.varm["double_means"], 2 * _reference(adata).to_numpy(), rtol=1e-6)
    assert adata.uns["double_means"]["layer"] == "double"


def test_celltype_means_copy_leaves_original(untouched):
    adata = _adata()
    with untouched(adata):
        out = celltype_means(adata, "cell_type", copy=True)
    assert out is not adata
    assert "celltype_means" in out.varm


def test_celltype_means_returns_none_and_logs(log_lines):
    adata = _adata()
    assert celltype_means(adata, "cell_type") is None
    assert any("celltype_means" in line and "3 groups" in line for line in log_lines)


def test_celltype_means_missing_column_leaves_adata_unchanged(untouched):
    adata = _adata()
    with untouched(adata), pytest.raises(InputError, match="not a column of adata.obs"):
        celltype_means(adata, "tissue")


def test_celltype_means_one_group_leaves_adata_unchanged(untouched):
    adata = _adata()
    adata.obs["one"] = "T"
    with untouched(adata), pytest.raises(InputError, match="at least two"):
        celltype_means(adata, "one")


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_celltype_means_nan_leaves_adata_unchanged(untouched, sparse):
    adata = _adata(sparse=sparse)
    adata.X[3, 2] = np.nan
    with untouched(adata), pytest.raises(InputError, match=r"adata\.X .*NaN or infinite.*layer="):
        celltype_means(adata, "cell_type")


def test_celltype_means_nan_error_names_the_layer(untouched):
    adata = _adata()
    adata.layers["raw"] = adata.X.copy()
    adata.layers["raw"][0, 0] = np.inf
    with untouched(adata), pytest.raises(InputError, match=r"adata\.layers\['raw'\]"):
        celltype_means(adata, "cell_type", layer="raw")


def test_celltype_means_unknown_layer_lists_layers(untouched):
    adata = _adata()
    adata.layers["counts"] = adata.X.copy()
    with untouched(adata), pytest.raises(InputError, match="'counts'"):
        celltype_means(adata, "cell_type", layer="lognorm")


def test_group_means_label_length_mismatch_raises():
    with pytest.raises(InputError, match="one label per cell"):
        group_means(np.ones((4, 2)), np.array(["a", "b", "a"]))
