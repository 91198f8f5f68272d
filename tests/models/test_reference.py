"""Every model's scores and stored arrays against a stored reference fit (``tests/data/make_reference.py``).

A refactor that is meant to leave the models alone must leave these scores
alone too; one that changes a model on purpose regenerates the reference
(``python tests/data/make_reference.py``) and says in its commit message which
model changed and why. The stored array schema (names, dtypes and shapes of
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

import grnlink as gl

_SCRIPT = Path(__file__).resolve().parents[1] / "data" / "make_reference.py"
_spec = importlib.util.spec_from_file_location("make_reference", _SCRIPT)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

RTOL, ATOL = 1e-4, 1e-5


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
    np.testing.assert_allclose(found, scores[name], rtol=RTOL, atol=ATOL, err_msg=f"{name} scores changed")


def test_the_comparison_fails_when_a_score_moves(stored):
    scores, _ = stored
    moved = scores["pcc"].copy()
    moved[7] += 10 * (ATOL + RTOL * abs(moved[7]))
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(moved, scores["pcc"], rtol=RTOL, atol=ATOL)
