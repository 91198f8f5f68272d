"""One small fitted AnnData shared by the plotting tests, a figure cleanup, and a no-change guard."""

from __future__ import annotations

import copy

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scanpy as sc  # noqa: E402

import grnlink as gl  # noqa: E402

FITTED_KEYS = ("grn", "held")


@pytest.fixture(scope="session")
def _plot_data():
    """``grn``: fitted on the whole true network; ``held``: fitted on a tf_matched split's training part."""
    adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, seed=0)
    truth = adata.uns["true_network"]
    gl.tl.grn_fit(adata, truth, model="two_tower", n_ensemble=2, max_epochs=5)
    gl.tl.grn_predict(adata)
    split = gl.bm.split(truth, adata.var_names, protocol="tf_matched", seed=0)
    gl.tl.grn_fit(
        adata, split.prior, model="two_tower", **split.fit_kwargs(), n_ensemble=2, max_epochs=5, key_added="held"
    )
    gl.tl.grn_predict(adata, key="held")
    return adata, split


@pytest.fixture
def fitted(_plot_data):
    """The shared fitted AnnData; the test fails when a plot changed it."""
    adata = _plot_data[0]
    before = _snapshot(adata)
    yield adata
    _assert_same(_snapshot(adata), before)


@pytest.fixture
def split(_plot_data):
    return _plot_data[1]


@pytest.fixture
def truth(_plot_data):
    return _plot_data[0].uns["true_network"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def figdir(tmp_path):
    """Figures saved by scanpy's rules land in a temporary folder, as png."""
    # scanpy's settings are class properties, which monkeypatch cannot restore
    old = sc.settings.figdir, sc.settings.file_format_figs
    sc.settings.figdir, sc.settings.file_format_figs = tmp_path, "png"
    yield tmp_path
    sc.settings.figdir, sc.settings.file_format_figs = old


@pytest.fixture
def no_autoshow():
    old = sc.settings.autoshow
    sc.settings.autoshow = False
    yield
    sc.settings.autoshow = old


def _snapshot(adata) -> dict:
    return {
        "uns_keys": sorted(adata.uns.keys()),
        "varp": {k: adata.varp[k].copy() for k in adata.varp.keys()},
        "entries": {k: copy.deepcopy(dict(adata.uns[k])) for k in FITTED_KEYS},
    }


def _assert_same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, dict):
        assert sorted(a) == sorted(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif hasattr(a, "toarray"):
        assert a.shape == b.shape and (a != b).nnz == 0
    else:
        np.testing.assert_equal(a, b)
