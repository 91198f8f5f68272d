"""Cell-heavy steps on dask-backed AnnData, on a two-worker dask.distributed LocalCluster, equal in-memory results."""

from __future__ import annotations

import anndata as ad
import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import grnlink as gl

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed: pip install 'grnlink[dask]' (the `dask` extra)"
)
zarr = pytest.importorskip("zarr", reason="zarr is not installed: pip install 'grnlink[dask]' (the `dask` extra)")

pytestmark = pytest.mark.slow  # a two-process LocalCluster per module


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as active:
        yield active
    cluster.close()


@pytest.fixture(scope="module")
def in_memory():
    adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=3)
    adata.X = sp.csr_matrix(adata.X)
    return adata


def _lazy(adata, path, store: str):
    """``adata`` with X read lazily (a dask array of 64-cell CSR chunks) from an h5ad or zarr store on disk."""
    if store == "zarr":
        adata.write_zarr(path)
        group = zarr.open(path, mode="r")
    else:
        adata.write_h5ad(path)
        group = h5py.File(path, "r")
    lazy_x = ad.experimental.read_elem_lazy(group["X"], chunks=(64, adata.n_vars))
    lazy = ad.AnnData(
        X=lazy_x, obs=adata.obs.copy(), var=adata.var.copy(), uns={"true_network": adata.uns["true_network"]}
    )
    assert hasattr(lazy.X, "dask") and lazy.X.npartitions > 1
    return lazy


@pytest.mark.parametrize("store", ["h5ad", "zarr"])
def test_celltype_means_on_the_cluster_equal_in_memory(client, in_memory, tmp_path, store):
    lazy = _lazy(in_memory, tmp_path / f"x.{store}", store)
    with distributed.get_task_stream(client) as stream:
        gl.pp.celltype_means(lazy, "cell_type")
    assert len(stream.data) >= lazy.X.npartitions  # the workers read the chunks
    expected = in_memory.copy()
    gl.pp.celltype_means(expected, "cell_type")
    np.testing.assert_array_equal(lazy.varm["celltype_means"], expected.varm["celltype_means"])


@pytest.mark.parametrize("model", ["dual_encoder", "pcc"])
def test_a_fit_on_the_cluster_scores_exactly_as_in_memory(client, in_memory, tmp_path, model):
    lazy = _lazy(in_memory, tmp_path / "x.zarr", "zarr")
    options = {"max_epochs": 3} if model == "dual_encoder" else {}
    scores = {}
    for name, data in (("lazy", lazy), ("memory", in_memory.copy())):
        with distributed.get_task_stream(client) as stream:
            gl.tl.grn_fit(data, data.uns["true_network"], model=model, groupby="cell_type", seed=1, **options)
            scores[name] = gl.tl.grn_predict(data)["score"].to_numpy()
        assert (len(stream.data) > 0) == (name == "lazy")
    np.testing.assert_array_equal(scores["lazy"], scores["memory"])


@pytest.mark.parametrize("model", ["dual_encoder", "cross_encoder"])
def test_genome_wide_scoring_splits_over_the_client_and_equals_in_process(client, in_memory, monkeypatch, model):
    from grnlink.tl import _predict

    adata = in_memory.copy()
    gl.tl.grn_fit(adata, adata.uns["true_network"], model=model, groupby="cell_type", seed=2, max_epochs=3)
    # blocks of a few TFs, as genome-scale scoring has: dual_encoder scores matrices, cross_encoder pair chunks
    monkeypatch.setattr(_predict, "MATRIX_BLOCK_ENTRIES", 3 * adata.n_vars)
    with distributed.get_task_stream(client) as stream:
        on_cluster = gl.tl.grn_predict(adata, top_k=30, chunk_size=500, inplace=False)
    # one task per block: 12 TFs in blocks of 3 (matrices; the first block scores in process) or 4 (500-pair chunks)
    assert len(stream.data) >= 3
    monkeypatch.setattr(_predict, "dask_client", lambda: None)
    in_process = gl.tl.grn_predict(adata, top_k=30, chunk_size=500, inplace=False)
    pd.testing.assert_frame_equal(on_cluster, in_process)
