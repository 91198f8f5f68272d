"""Every model's scores and stored arrays against a stored reference fit (``tests/data/make_reference.py``).

A refactor that is meant to leave the models alone must leave these scores
alone too; one that changes a model on purpose regenerates the reference
(``python tests/data/make_reference.py``) and says in its commit message which
model changed and why. Scores are compared within what a refit on another
CPU moves them (``check_scores``), not bit for bit. The stored array schema (names, dtypes and shapes of
what a fit writes to ``adata.uns``) guards the loading of entries written
before: a renamed weight would still score the same after a refit, but an
older entry holding the old name would no longer load. That an entry of the
previous stored format (5) still predicts is tested in
``tests/models/test_stack.py`` (format-5 ``stack`` entries) and of formats 1
and 2 in ``tests/tl/test_store.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

import grnlink as gl

_SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_reference.py"
_spec = importlib.util.spec_from_file_location("make_reference", _SCRIPT)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

# What a refit on another CPU may move: BLAS and torch pick kernels by instruction set (AVX2, AVX-512), so
# sums round differently in the last bits; float32 training carries that to ~1e-4, and a fitted tree ensemble
# flips the odd split whose threshold falls between nearly equal values (degree_adjusted, measured: one pair
# of 468 moved by 0.009 between the reference's machine and an AVX2 AMD EPYC). A deliberate change moves more.
RTOL, ATOL = 1e-3, 1e-4
MAX_MOVED_SHARE = 0.02  # pairs allowed outside the tolerance
# Fully grown random-forest trees choose among tied candidate splits by the last bit of the input: across
# those two machines genie3's scores kept their order (Spearman 0.977) but most moved by ~0.003.
RANK_ONLY = {"genie3": 0.95}


def check_scores(name: str, found: np.ndarray, expected: np.ndarray) -> None:
    """Fail when a model's scores moved more than a refit on another CPU moves them."""
    if name in RANK_ONLY:
        rho = spearmanr(found, expected)[0]
        assert rho >= RANK_ONLY[name], f"{name} scores changed order (Spearman {rho:.3f})"
        return
    moved = ~np.isclose(found, expected, rtol=RTOL, atol=ATOL)
    assert moved.mean() <= MAX_MOVED_SHARE, f"{name} scores changed at {moved.sum()} of {len(moved)} pairs"
    assert spearmanr(found, expected)[0] >= 0.999, f"{name} scores changed order"


@pytest.fixture(scope="module")
def stored():
    with np.load(reference.SCORES) as data:
        scores = {name: data[name] for name in data.files}
    return scores, json.loads(reference.SCHEMA.read_text())


@pytest.fixture(scope="module")
def data():
    adata = reference.simulation()
    return adata, reference.reference_pairs(adata)


def test_the_reference_covers_every_registered_model(stored):
    scores, schemas = stored
    assert set(gl.models.available_models()) == set(schemas) == set(scores) - {"source", "target"}


def test_the_reference_pairs_are_the_stored_ones(stored, data):
    scores, _ = stored
    _, pairs = data
    np.testing.assert_array_equal(pairs["source"].to_numpy(dtype=str), scores["source"])
    np.testing.assert_array_equal(pairs["target"].to_numpy(dtype=str), scores["target"])


@pytest.mark.parametrize("name", gl.models.available_models())
def test_a_refit_gives_the_stored_scores_and_stored_arrays(name, stored, data):
    scores, schemas = stored
    adata, pairs = data
    found, schema = reference.fit_and_score(name, adata.copy(), pairs, reference.model_options()[name])
    assert schema == schemas[name], f"{name} stores other arrays than the reference: older entries may not load"
    check_scores(name, found, scores[name])


def test_the_comparison_fails_when_scores_move(stored):
    scores, _ = stored
    expected = scores["pcc"]
    moved = expected.copy()
    n_moved = int(MAX_MOVED_SHARE * len(moved)) + 1
    moved[:n_moved] += 10 * (ATOL + RTOL * np.abs(moved[:n_moved]))
    with pytest.raises(AssertionError, match="changed at"):
        check_scores("pcc", moved, expected)
    check_scores("pcc", np.r_[moved[:1], expected[1:]], expected)  # one moved pair: within what a CPU moves
    reordered = np.random.default_rng(0).permutation(scores["genie3"])
    with pytest.raises(AssertionError, match="changed order"):
        check_scores("genie3", reordered, scores["genie3"])
