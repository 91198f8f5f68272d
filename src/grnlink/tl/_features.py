"""Per-gene feature groups built from what an AnnData knows about each gene.

``expression``: each gene's per-cell expression, standardised over cells
(at most ``max_cells`` cells, a seeded subsample). ``celltype_means``: the
gene's mean expression per ``groupby`` group. ``embedding``: the scFM gene
embedding in ``varm``. Groups other than ``expression`` are standardised per
column across genes so that each dimension enters a network on one scale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from anndata import AnnData

from .._io import expression
from .._settings import info
from .._validation import InputError, check_embedding, check_finite, check_groupby
from ..models import FEATURE_GROUPS
from ..pp._celltype_means import group_means, stored_celltype_means

MIN_CELLS = 5  # fewer cells cannot describe a gene by its expression


def resolve_feature_groups(
    features: Sequence[str] | None,
    *,
    groupby: str | None,
    embedding_key: str | None,
    required: Sequence[str] = (),
) -> tuple[str, ...]:
    """Feature groups to build: ``features`` as given, or every group the arguments make available.

    By default the model's ``required`` groups that need no argument (``gene_stats``) are added too.
    """
    if features is None:
        groups = ["expression"]
        groups += ["celltype_means"] if groupby is not None else []
        groups += ["embedding"] if embedding_key is not None else []
        groups += [g for g in required if g == "gene_stats" and g not in groups]
        return tuple(groups)
    groups = tuple(features) if not isinstance(features, str) else (features,)
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if unknown:
        raise InputError(f"features={groups!r} names unknown group(s) {unknown}; valid groups are {FEATURE_GROUPS}.")
    if "celltype_means" in groups and groupby is None:
        raise InputError("features includes 'celltype_means' but groupby is None; pass groupby='<obs column>'.")
    if "embedding" in groups and embedding_key is None:
        raise InputError("features includes 'embedding' but embedding_key is None; pass embedding_key='<varm key>'.")
    return groups


def cell_subsample(n_cells: int, max_cells: int | None, seed: int) -> np.ndarray:
    """Sorted positions of at most ``max_cells`` cells, the same for the same seed."""
    if max_cells is None or n_cells <= max_cells:
        return np.arange(n_cells)
    return np.sort(np.random.default_rng(seed).choice(n_cells, size=max_cells, replace=False))


@dataclass
class ExpressionView:
    """The expression one fit (or one rebuild of its features) reads, read from the AnnData once.

    ``matrix`` is the cells x genes matrix of ``layer`` as stored (``adata.X``
    when ``None``; never copied), ``cells`` the positions of the fit's cell
    subsample. The dense subsample and its standardised form are made on
    first use and kept, so that every feature builder (cell-type means,
    ``expression``, ``gene_stats``, the digest, the co-expression of hard
    negatives) shares one read.
    """

    matrix: Any
    what: str
    layer: str | None
    cells: np.ndarray
    _dense: np.ndarray | None = field(default=None, repr=False)
    _standardized: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of(cls, adata: AnnData, layer: str | None, cells: np.ndarray) -> ExpressionView:
        """The view of ``layer`` (``adata.X`` when ``None``) over the cells at positions ``cells``."""
        matrix, what = expression(adata, layer)
        return cls(matrix, what, layer, np.asarray(cells))

    def dense(self) -> np.ndarray:
        """Cells x genes float64 expression of the chosen cells, checked to be finite (densified once)."""
        if self._dense is None:
            matrix = self.matrix[self.cells]
            if hasattr(matrix, "compute"):
                matrix = matrix.compute()
            dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
            dense = dense.astype(np.float64, copy=False)
            check_finite(dense, f"the expression in {self.what}")
            self._dense = dense
        return self._dense

    def subset(self, rows: np.ndarray) -> ExpressionView:
        """The view of the cells ``self.cells[rows]``, sharing what this view has read."""
        dense = None if self._dense is None else self._dense[rows]
        return ExpressionView(self.matrix, self.what, self.layer, self.cells[rows], _dense=dense)

    def standardized(self) -> np.ndarray:
        """Genes x cells float32, each gene centred and scaled to unit variance over the cells.

        Genes constant over the cells get zeros; when every gene is constant the
        features would carry nothing, which raises :class:`~grnlink.InputError`.
        """
        if self._standardized is None:
            self._standardized = _standardize_genes(self.dense())
        return self._standardized


def _standardize_genes(dense: np.ndarray) -> np.ndarray:
    """Genes x cells float32: each column of the cells x genes ``dense`` centred and scaled to unit variance.

    Raises :class:`~grnlink.InputError` when every gene is constant: the result would carry nothing.
    """
    centred = dense - dense.mean(axis=0)
    scale = dense.std(axis=0)
    if not (scale > 0).any():
        raise InputError(
            f"every gene is constant over the {len(dense)} cells used: expression features would be "
            "all zeros and the scores would not reflect expression at all. Pass the layer that holds expression "
            "(layer=...), or leave 'expression' out of features= and use celltype_means or an embedding."
        )
    z = np.divide(centred, scale, out=np.zeros_like(centred), where=scale > 0)
    return np.ascontiguousarray(z.T, dtype=np.float32)


def standardize_columns(values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Centre and scale each column over ``rows`` (all rows by default); other rows stay zero."""
    values = np.asarray(values, dtype=np.float64)
    rows = np.ones(len(values), dtype=bool) if rows is None else rows
    out = np.zeros_like(values)
    mean = values[rows].mean(axis=0)
    scale = values[rows].std(axis=0)
    scale[scale == 0] = 1.0
    out[rows] = (values[rows] - mean) / scale
    return out.astype(np.float32)


def build_features(
    adata: AnnData,
    groups: Sequence[str],
    view: ExpressionView,
    *,
    groupby: str | None,
    embedding_key: str | None,
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Every requested feature group as a genes x d float32 array, and the digests of the rebuildable ones.

    Reads ``adata`` (labels, embeddings) and its expression through ``view``
    only. ``expression`` is not stored with a fitted model (genes x cells is
    the data, not the model): its digest, that of the raw expression read,
    lets :func:`rebuild_features` check that a later rebuild reads the same
    numbers.
    """
    features: dict[str, np.ndarray] = {}
    digests: dict[str, str] = {}
    if "celltype_means" in groups:
        features["celltype_means"] = standardize_columns(_celltype_means(adata, view, groupby))
    if "embedding" in groups:
        emb = check_embedding(adata, embedding_key)
        mask_col = f"{embedding_key}_mask"
        present = adata.var[mask_col].to_numpy(bool) if mask_col in adata.var else np.any(emb != 0, axis=1)
        features["embedding"] = standardize_columns(emb, present if present.any() else None)
    features.update(cell_features(view, groups))
    if "expression" in groups:
        digests["expression"] = expression_digest(view.dense())
    return features, digests


def _celltype_means(adata: AnnData, view: ExpressionView, groupby: str | None) -> np.ndarray:
    """Genes x groups mean expression over every cell: as stored by ``gl.pp.celltype_means``, else computed."""
    labels = check_groupby(adata, groupby)
    stored = stored_celltype_means(adata, groupby, view.layer)
    if stored is not None:
        key, means = stored
        info(f"using the cell-type means in adata.varm[{key!r}] (gl.pp.celltype_means, groupby={groupby!r})")
        return means
    means, _ = group_means(view.matrix, labels, what=view.what)
    return means


def cell_features(view: ExpressionView, groups: Sequence[str]) -> dict[str, np.ndarray]:
    """The groups of ``expression`` and ``gene_stats`` requested, over the view's cells."""
    features = {}
    if "expression" in groups:
        features["expression"] = view.standardized()
    if "gene_stats" in groups:
        features["gene_stats"] = standardize_columns(gene_statistics(view.dense()))
    return features


#: Feature groups a fitted model does not store but rebuilds from ``adata`` when its scoring reads them.
REBUILT_GROUPS = ("expression",)


def expression_digest(dense: np.ndarray) -> str:
    """Fingerprint of the raw cells x genes expression a fit read (before standardising: bit-stable across CPUs)."""
    return hashlib.blake2b(np.ascontiguousarray(dense, dtype=np.float64).data, digest_size=16).hexdigest()


def rebuild_features(
    adata: AnnData, genes: np.ndarray, groups: Sequence[str], fit_params: Mapping, digests: Mapping, where: str
) -> dict[str, np.ndarray]:
    """The ``groups`` (of :data:`REBUILT_GROUPS`) of a stored fit, read again from ``adata`` and checked by digest.

    ``genes`` are the fitted genes (``adata`` may order them differently or
    hold more); the fit's ``layer``, ``max_cells`` and ``seed`` pick the same
    cells. Raises :class:`~grnlink.InputError` when ``adata`` lacks a fitted
    gene or its expression is no longer what the model was fitted on.
    """
    absent = ~np.isin(genes, np.asarray(adata.var_names, dtype=str))
    if absent.any():
        raise InputError(
            f"{where} reads per-cell expression when it scores, and adata lacks {int(absent.sum())} of its "
            f"fitted genes ({', '.join(genes[absent][:5])}...). Score with the AnnData it was fitted on."
        )
    same_order = len(genes) == adata.n_vars and np.array_equal(genes, np.asarray(adata.var_names, dtype=str))
    source = adata if same_order else adata[:, genes]
    cells = cell_subsample(source.n_obs, fit_params.get("max_cells"), int(fit_params.get("seed", 0)))
    view = ExpressionView.of(source, fit_params.get("layer"), cells)
    features, found = build_features(source, groups, view, groupby=None, embedding_key=None)
    for group in groups:
        if found[group] != digests.get(group):
            raise InputError(
                f"{where} reads the per-cell expression it was fitted on when it scores ({group!r} of "
                f"layer={fit_params.get('layer')!r}, {adata.n_obs} cells now), and that expression has changed "
                "since the fit (cells, values or layer differ). Restore it, or refit with gl.tl.grn_fit."
            )
    return features


def gene_statistics(dense: np.ndarray) -> np.ndarray:
    """Genes x 3: mean, standard deviation and detection rate over the cells (rows) of ``dense``."""
    return np.stack([dense.mean(axis=0), dense.std(axis=0), (dense != 0).mean(axis=0)], axis=1)
