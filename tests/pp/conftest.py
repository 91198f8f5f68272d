"""Fixtures shared by the gl.pp tests: untouched-AnnData checks and captured log lines."""

from __future__ import annotations

import contextlib
import hashlib
import logging

import numpy as np
import pytest
import scanpy as sc
import scipy.sparse as sp

from grnlink._settings import _ScanpyFormatter


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
