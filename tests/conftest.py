"""Shared fixtures: a small simulated dataset, fast model options, the shared data folder."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import scanpy as sc

import grnlink as gl
from grnlink._settings import _ScanpyFormatter

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# few epochs and one ensemble member keep every test fast; behaviour is the same
FAST = {"n_ensemble": 1, "max_epochs": 12, "patience": 5}


# fast options per model (the model_options fixture): enough to fit on the small simulated data in a second or two
MODEL_OPTIONS = {
    "two_tower": {"n_ensemble": 1, "max_epochs": 12, "patience": 5},
    "cross_encoder": {"n_ensemble": 1, "max_epochs": 12, "patience": 5},
    "dual_encoder": {"n_ensemble": 1, "max_epochs": 12, "patience": 5},
    "scregnet": {"max_epochs": 6},
    "sctransnet": {"max_epochs": 6},
    "genelink": {"max_epochs": 4},
    "gnt": {"max_epochs": 4},
    "genie3": {"n_estimators": 10},
    "pcc": {},
    "degree_adjusted": {"n_trees": 30, "n_folds": 3},
    "stack": {
        "base_options": {
            "degree_adjusted": {"n_trees": 30, "n_folds": 3},
            "sctransnet": {"n_ensemble": 1, "max_epochs": 12, "patience": 5},
        }
    },
}


@pytest.fixture
def model_options():
    """Fast options of every registered model (a test fails when a model has none)."""
    missing = set(gl.models.available_models()) - set(MODEL_OPTIONS)
    assert not missing, f"add fast options for {sorted(missing)} to MODEL_OPTIONS in tests/conftest.py"
    return {name: dict(options) for name, options in MODEL_OPTIONS.items()}


@pytest.fixture(autouse=True)
def _quiet():
    old = sc.settings.verbosity
    sc.settings.verbosity = 1
    yield
    sc.settings.verbosity = old


_SIMULATIONS: dict[tuple, object] = {}


def _simulation(**kwargs):
    """``gl.ds.simulate(**kwargs)``, made once per session for each set of arguments (never hand this out)."""
    key = tuple(sorted(kwargs.items()))
    if key not in _SIMULATIONS:
        _SIMULATIONS[key] = gl.ds.simulate(**kwargs)
    return _SIMULATIONS[key]


@pytest.fixture(scope="session")
def simulated():
    """``simulated(**kwargs)``: a fresh copy of ``gl.ds.simulate(**kwargs)``; each size (and seed, signal) is
    simulated once per session and shared by every module that asks for it, e.g. ``simulated(seed=0)`` for the
    default 500 genes x 2,000 cells. A copy, so no test can change what another test sees."""
    return lambda **kwargs: _simulation(**kwargs).copy()


@pytest.fixture(scope="session")
def _simulated():
    return _simulation(n_genes=160, n_tfs=16, n_cells=400, n_celltypes=4, seed=0)


@pytest.fixture
def adata(_simulated):
    """A fresh copy of a small simulated dataset (160 genes, 16 TFs, 400 cells)."""
    return _simulated.copy()


@pytest.fixture(scope="session")
def small_fit(_simulated):
    """``small_fit(**fit_args)``: a fresh copy of the small simulated data with ``grn_fit(adata, true network,
    **fit_args)`` done; each set of arguments is fitted once per session (same seed, same scores)."""
    fits = {}

    def fitted(**fit_args):
        key = repr(sorted(fit_args.items()))
        if key not in fits:
            adata = _simulated.copy()
            gl.tl.grn_fit(adata, adata.uns["true_network"], **fit_args)
            fits[key] = adata
        return fits[key].copy()

    return fitted


@pytest.fixture
def truth(adata):
    return adata.uns["true_network"]


@pytest.fixture
def fast():
    return dict(FAST)


def _beeline_folder(network: str) -> Path:
    path = SHARED_DATA / "beeline" / network / "mDC" / "TFs+500"
    if not path.is_dir():
        pytest.skip(f"real BEELINE data not found at {path} (the ../shared folder beside the repo is absent)")
    return path


@pytest.fixture
def beeline_dir():
    """BEELINE mDC with the Non-Specific ground truth (skips without ../shared)."""
    return _beeline_folder("Non-Specific")


@pytest.fixture
def beeline_specific_dir():
    """BEELINE mDC with the cell-type-specific ground truth (skips without ../shared)."""
    return _beeline_folder("Specific")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(_ScanpyFormatter())  # lines as they are printed ("WARNING: ..." for warnings)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    """Messages grnlink logs during the test, at scanpy verbosity info."""
    verbosity = sc.settings.verbosity
    sc.settings.verbosity = 2
    handler = _Collect()
    logger = logging.getLogger("grnlink")
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        sc.settings.verbosity = verbosity


def _as_format_1(entry, adata=None) -> None:
    """Turn a fitted ``adata.uns[key]`` into what grnlink wrote in stored-model format 1: no prior weights,
    no calibration, the format-1 schema (features and state only), and every feature group stored (the
    per-cell expression that format 3 reads again from ``adata`` included)."""
    import json

    import numpy as np

    from grnlink.tl import _features, _store

    rebuilt = json.loads(entry.pop("rebuilt_features", "{}"))
    if rebuilt:
        assert adata is not None, "pass the AnnData: this model's expression must go back into the entry"
        fit_params = json.loads(entry["fit_params"])
        genes = np.asarray(entry["genes"]).astype(str)
        entry["features"].update(_features.rebuild_features(adata, genes, list(rebuilt), fit_params, rebuilt, "test"))
    entry.pop("calibration", None)
    entry.pop("edges", None)
    del entry["prior"]["weight"]
    entry["format_version"] = 1
    entry["schema"] = _store._to_json(_store.array_schema(entry["features"], entry["state"]))


@pytest.fixture
def as_format_1():
    """A function that rewrites a fitted entry in place as stored-model format 1 wrote it."""
    return _as_format_1


# Parametrised tests whose every case fits a model: the fast subset (-m "not slow") runs the cases named here and
# CI runs them all. Every model still has fast tests (tests/models/test_reference.py fits each one).
FAST_CASES = {
    "test_no_test_or_validation_edge_reaches_a_feature": {
        "log_target_degree",
        "coexpression",
        "known_target_coexpression",
        "activity_correlation",
        "neighbour_targets",
        "shared_regulators",
    },
    "test_no_model_stores_the_genes_x_cells_expression_and_each_round_trips": {"pcc", "dual_encoder", "stack"},
    "test_ulm_and_viper_accept_the_network_of_every_model": {"pcc", "stack"},
    "test_genome_wide_scoring_by_matrix_products_equals_scoring_pair_by_pair": {"dual_encoder", "stack"},
    "test_cpu_and_auto_without_cuda_give_the_scores_of_no_device_argument": {"two_tower", "pcc"},
    "test_prune_stores_a_copy_and_degrades_gracefully": {"dual_encoder"},
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fast = FAST_CASES.get(getattr(item, "originalname", item.name))
        if fast is not None and item.callspec.id not in fast:  # a renamed case fails loudly below, not silently
            assert set(fast) <= {i.callspec.id for i in items if getattr(i, "originalname", "") == item.originalname}
            item.add_marker(pytest.mark.slow)
