"""A fitted model as plain ``adata.uns`` entries, and back.

Layout of ``adata.uns[key]``: ``model`` (name), ``params`` and ``fit_params``
(JSON strings, so that every value, ``None`` included, round-trips exactly),
``genes`` (the var_names it was fitted on), ``tfs`` (the prior's TFs),
``prior`` (source/target positions of the aligned prior), ``features`` and
``state`` (numpy arrays), ``training`` (curves and counts), ``coverage``.

Beside these, ``prior["weight"]`` keeps each prior edge's weight (its sign is
the mode of regulation that :func:`grnlink.tl.grn_network` hands on) and
``calibration`` the score -> probability map fitted on the validation pairs
(see :mod:`grnlink.tl._calibration`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from anndata import AnnData

from .._validation import InputError
from ..models import LinkPredictor, get_model_class
from ._calibration import calibrated

_REQUIRED = ("model", "params", "genes", "tfs", "prior", "features", "state")


def _to_json(value: dict[str, Any]) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    return json.dumps(value, default=default, sort_keys=True)


@dataclass
class FittedGRN:
    """A fitted predictor with the gene and prior context it was fitted in."""

    model: LinkPredictor
    genes: np.ndarray
    tfs: np.ndarray
    prior_source: np.ndarray
    prior_target: np.ndarray
    fit_params: dict[str, Any]
    prior_weight: np.ndarray | None = None
    calibration: dict[str, Any] | None = None

    def probability(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw ``scores``; NaN when the fit stored no calibration."""
        if self.calibration is None:
            return np.full(len(scores), np.nan)
        return calibrated(self.calibration, scores)


def store_fitted(
    adata: AnnData,
    key: str,
    *,
    model: LinkPredictor,
    genes: np.ndarray,
    prior_source: np.ndarray,
    prior_target: np.ndarray,
    fit_params: dict[str, Any],
    training: dict[str, Any],
    coverage: dict[str, int],
    prior_weight: np.ndarray | None = None,
    calibration: dict[str, Any] | None = None,
) -> None:
    """Write the fitted model to ``adata.uns[key]``, replacing what was there."""
    tfs = genes[np.unique(prior_source)]
    adata.uns[key] = {
        "model": model.name,
        "params": _to_json(model.params),
        "fit_params": _to_json(fit_params),
        "genes": np.asarray(genes, dtype=str),
        "tfs": np.asarray(tfs, dtype=str),
        "prior": {"source": prior_source.astype(np.int64), "target": prior_target.astype(np.int64)},
        "features": {k: np.asarray(v, dtype=np.float32) for k, v in model.features.items()},
        "state": model.get_state(),
        "training": training,
        "coverage": coverage,
    }
    # issue 12: the prior's edge weights (mode of regulation) and the probability calibration
    if prior_weight is not None:
        adata.uns[key]["prior"]["weight"] = np.asarray(prior_weight, dtype=np.float64)
    if calibration is not None:
        adata.uns[key]["calibration"] = calibration


def load_fitted(adata: AnnData, key: str) -> FittedGRN:
    """Rebuild the predictor stored in ``adata.uns[key]`` by :func:`store_fitted`."""
    entry = adata.uns.get(key)
    if not isinstance(entry, dict) or any(k not in entry for k in _REQUIRED):
        raise InputError(
            f"adata.uns has no fitted grnlink model under key {key!r}. "
            f"Run gl.tl.grn_fit(adata, prior, key_added={key!r}) first, or pass the key you fitted with."
        )
    cls = get_model_class(str(entry["model"]))
    model = cls(**json.loads(entry["params"]))
    genes = np.asarray(entry["genes"]).astype(str)
    features = {k: np.asarray(v, dtype=np.float32) for k, v in entry["features"].items()}
    model.set_state(features, dict(entry["state"]), n_genes=len(genes))
    return FittedGRN(
        model=model,
        genes=genes,
        tfs=np.asarray(entry["tfs"]).astype(str),
        prior_source=np.asarray(entry["prior"]["source"], dtype=np.int64),
        prior_target=np.asarray(entry["prior"]["target"], dtype=np.int64),
        fit_params=json.loads(entry["fit_params"]) if "fit_params" in entry else {},
        prior_weight=np.asarray(entry["prior"]["weight"], dtype=np.float64) if "weight" in entry["prior"] else None,
        calibration=dict(entry["calibration"]) if "calibration" in entry else None,
    )
