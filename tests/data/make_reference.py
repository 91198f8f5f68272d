"""Write the stored reference fit that ``tests/models/test_reference.py`` compares every model with.

Run from the repository root, after a change that is meant to change some
model's scores (and say which and why in the commit message)::

    OMP_NUM_THREADS=1 python tests/data/make_reference.py

For every registered model (``gl.models.available_models()``) it fits the fast
options of ``tests/conftest.py`` (``MODEL_OPTIONS``) on a small simulation
(:data:`SIMULATION`), with ``groupby="cell_type"``, ``seed=0`` and the
simulation's own network as the prior, and scores a fixed set of pairs (every
TF of the prior against the first :data:`N_TARGETS` genes) with
``gl.tl.grn_predict``. It writes

- ``reference_scores.npz``: the pairs (``source``, ``target``) and one score
  array per model;
- ``reference_schema.json``: per model, the name, dtype and shape of every
  array the fit stores in ``adata.uns`` (its ``schema``), so that a change of
  a stored weight's name or shape, which would make older entries unloadable,
  shows up even when the scores stay the same.

Fits run with one thread (grnlink's ``n_jobs`` default) on the CPU, which
makes them deterministic up to float rounding.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import grnlink as gl

HERE = Path(__file__).resolve().parent
SCORES = HERE / "reference_scores.npz"
SCHEMA = HERE / "reference_schema.json"
SIMULATION = {"n_genes": 120, "n_tfs": 12, "n_cells": 300, "n_celltypes": 4, "seed": 0}
N_TARGETS = 40


def model_options() -> dict[str, dict]:
    """The fast options of ``tests/conftest.py``, one dict per model."""
    sys.path.insert(0, str(HERE.parent))
    try:
        from conftest import MODEL_OPTIONS
    finally:
        sys.path.remove(str(HERE.parent))
    return {name: dict(options) for name, options in MODEL_OPTIONS.items()}


def simulation():
    """The reference data set (a fresh one on each call)."""
    return gl.ds.simulate(**SIMULATION)


def reference_pairs(adata) -> pd.DataFrame:
    """Every TF of the prior against each of the first :data:`N_TARGETS` genes, self-pairs left out."""
    tfs = np.unique(adata.uns["true_network"]["source"].astype(str))
    targets = np.asarray(adata.var_names[:N_TARGETS], dtype=str)
    pairs = pd.DataFrame({"source": np.repeat(tfs, len(targets)), "target": np.tile(targets, len(tfs))})
    return pairs[pairs["source"] != pairs["target"]].reset_index(drop=True)


def fit_and_score(name: str, adata, pairs: pd.DataFrame, options: dict) -> tuple[np.ndarray, dict]:
    """Fit ``name`` on ``adata`` (in place) and return the scores of ``pairs`` and the stored array schema."""
    gl.tl.grn_fit(adata, adata.uns["true_network"], model=name, groupby="cell_type", seed=0, **options)
    scores = gl.tl.grn_predict(adata, pairs=pairs, inplace=False)["score"].to_numpy(dtype=np.float64)
    return scores, json.loads(adata.uns["grn"]["schema"])


def main() -> None:
    options = model_options()
    data = simulation()
    pairs = reference_pairs(data)
    arrays = {"source": pairs["source"].to_numpy(dtype=str), "target": pairs["target"].to_numpy(dtype=str)}
    schemas = {}
    for name in gl.models.available_models():
        arrays[name], schemas[name] = fit_and_score(name, data.copy(), pairs, options[name])
        print(f"{name}: {len(arrays[name])} scores, mean {arrays[name].mean():.6f}")
    np.savez_compressed(SCORES, **arrays)
    SCHEMA.write_text(json.dumps(schemas, indent=1, sort_keys=True) + "\n")
    print(f"wrote {SCORES} and {SCHEMA}")


if __name__ == "__main__":
    main()
