"""Thread control: fits and predictions use scanpy's n_jobs threads and restore the caller's settings."""

import numpy as np
import pytest
import scanpy as sc
import torch
from threadpoolctl import threadpool_info

import grnlink as gl
from grnlink._settings import n_jobs, thread_limit


@pytest.fixture
def two_caller_threads():
    old_torch, old_jobs = torch.get_num_threads(), sc.settings.n_jobs
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(old_torch)
    sc.settings.n_jobs = old_jobs


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_thread_limit_sets_n_jobs_threads_and_restores_the_callers(two_caller_threads):
    sc.settings.n_jobs = 1
    with thread_limit():  # loads the thread pools it controls (numba's among them), so both lists hold the same
        pass
    blas_before = _blas_threads()
    with thread_limit() as n:
        assert n == 1
        assert torch.get_num_threads() == 1
        assert all(t == 1 for t in _blas_threads())
    assert torch.get_num_threads() == 2
    assert _blas_threads() == blas_before


def test_numba_parallel_code_inside_a_fit_leaves_torch_at_n_jobs_threads(two_caller_threads):
    import numba  # a dependency of scanpy, so always installed

    @numba.njit(parallel=True)
    def total(x):
        s = 0.0
        for i in numba.prange(len(x)):
            s += x[i]
        return s

    sc.settings.n_jobs = 1
    with thread_limit():
        assert total(np.ones(1000)) == 1000.0  # numba's OpenMP layer resets the shared OpenMP thread count here
        assert torch.get_num_threads() == 1
        assert numba.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_n_jobs_never_exceeds_the_usable_cpus(two_caller_threads):
    sc.settings.n_jobs = 10_000
    assert 1 <= n_jobs() <= 10_000
    sc.settings.n_jobs = -1
    assert n_jobs() >= 1


def test_grn_fit_and_predict_train_with_n_jobs_threads_and_restore(adata, truth, fast, two_caller_threads, monkeypatch):
    sc.settings.n_jobs = 1
    seen = []
    original = gl.models.DualEncoder.fit

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(gl.models.DualEncoder, "fit", spy)
    gl.tl.grn_fit(adata, truth, model="dual_encoder", **fast)
    gl.tl.grn_predict(adata, top_k=5)
    assert seen == [1]
    assert torch.get_num_threads() == 2


def test_threads_restored_when_the_fit_fails(adata, two_caller_threads):
    sc.settings.n_jobs = 1
    with pytest.raises(gl.InputError):
        gl.tl.grn_fit(adata, adata.uns["true_network"].iloc[:0], model="dual_encoder")
    assert torch.get_num_threads() == 2


def test_expression_components_equal_the_exact_svd_up_to_sign():
    from grnlink.models._neural import expression_components

    rng = np.random.default_rng(0)
    for shape in [(120, 60), (60, 120)]:
        z = rng.standard_normal(shape) @ np.diag(np.linspace(3, 0.1, shape[1]))
        comps = expression_components(z, 10).astype(np.float64)
        u, s, _ = np.linalg.svd(z, full_matrices=False)
        exact = u[:, :10] * s[:10]
        exact /= exact.std(axis=0)
        sign = np.sign((comps * exact).sum(axis=0))
        np.testing.assert_allclose(comps * sign, exact, atol=1e-5)
        assert (np.abs(comps).max(axis=0) == comps.max(axis=0)).all()  # the sign convention
