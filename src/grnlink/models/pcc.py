"""``pcc``: absolute Pearson correlation, the unsupervised baseline.

The score of a pair is ``|r|`` between the TF's and the gene's per-cell
expression. Nothing is learned: the prior, the negatives and the validation
pairs are ignored, so the score says what co-expression alone gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._pairs import PairSet
from ._base import LinkPredictor
from ._registry import register


@register
class PCC(LinkPredictor):
    """Absolute Pearson correlation of per-cell expression (baseline; the prior is ignored)."""

    name = "pcc"
    paper = "baseline"
    supervised = False
    requires = ("expression",)
    defaults: dict[str, Any] = {}
    schema = {}
    per_group = True

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        self.set_state(features, {}, n_genes=n_genes)
        return {}

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        z = self._z
        return np.abs(np.einsum("ij,ij->i", z[tf], z[gene], dtype=np.float64)) / z.shape[1]

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        return ("expression",)

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray:
        z = self._z
        return np.abs(z[np.asarray(tf, dtype=np.int64)] @ z.T) / z.shape[1]

    def for_cells(self, features: dict[str, np.ndarray], cells: np.ndarray) -> PCC:
        within = PCC(**self.params)
        within.set_state({"expression": features["expression"]}, {}, n_genes=len(features["expression"]))
        return within

    def get_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.check_features(features)
        self.features = features
        self._z = np.asarray(features["expression"], dtype=np.float64)
