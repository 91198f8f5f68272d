"""Fixtures shared by the gl.pp tests: untouched-AnnData checks (captured log lines are in tests/conftest.py)."""

from __future__ import annotations

import contextlib
import hashlib

import numpy as np
import pytest
import scipy.sparse as sp


def _digest(matrix) -> str:
    if matrix is None:
        return "none"
    if sp.issparse(matrix):
        parts = [matrix.data, matrix.indices, matrix.indptr]
    else:
        parts = [np.ascontiguousarray(matrix)]
    h = hashlib.sha1()
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


def _state(adata) -> dict:
    return {
        "X": _digest(adata.X) if not adata.isbacked else "backed",
        "layers": {k: _digest(v) for k, v in adata.layers.items()},
        "varm": sorted(adata.varm.keys()),
        "uns": sorted(adata.uns.keys()),
        "var": list(adata.var.columns),
        "obs": list(adata.obs.columns),
        "var_names": list(adata.var_names),
    }


@pytest.fixture
def untouched():
    """``with untouched(adata): ...`` asserts the block leaves ``adata`` as it was."""

    @contextlib.contextmanager
    def check(adata):
        before = _state(adata)
        yield
        assert _state(adata) == before

    return check
