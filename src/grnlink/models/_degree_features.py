"""``degree_adjusted``'s features: what the known (training) edges and the expression say about a pair.

:class:`GeneSpace` holds what is known of each gene without any edge (unit
rows of the leading expression components, of the cell-type means and of
the embedding, gene statistics, co-expression neighbours); :class:`KnownGraph`
adds the known edges and computes, for any pair, the popularity features
(:data:`POPULARITY_FEATURES`: degrees and the target's statistics) and the
TF-specific ones (:data:`TF_SPECIFIC_FEATURES`: co-expression, centroids of
known targets and regulators, decoupler TF activity, neighbour and shared
regulator counts, embedding similarities). :func:`cross_fitted_features`
computes the training pairs' features fold by fold from the other folds'
edges only, and :func:`degree_matched_weights` bins targets by degree to
weigh negatives like positives. The model itself, which learns from these
features, is :mod:`grnlink.models.degree_adjusted`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._metrics import has_both_classes
from .._pairs import PairSet, edge_degrees, pair_keys
from ._neural import shared_components

POPULARITY_FEATURES = ("log_target_degree", "log_tf_degree", "target_mean", "target_sd", "target_detection")
TF_SPECIFIC_FEATURES = (
    "coexpression",
    "abs_coexpression",
    "condition_coexpression",
    "known_target_coexpression",
    "regulator_coexpression",
    "activity_correlation",
    "neighbour_targets",
    "shared_regulators",
    "shared_targets",
    "embedding_similarity",
    "known_target_embedding",
)
_CHUNK_TFS = 256  # TF rows of the dense TF x gene blocks built while scoring


def unit_rows(values: np.ndarray, *, centre: bool) -> np.ndarray:
    """Rows (optionally centred, then) scaled to unit length; zero rows stay zero.

    Dot products of centred unit rows are correlations; of uncentred ones, cosines.
    """
    values = np.asarray(values, dtype=np.float64)
    if centre:
        values = values - values.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(values, axis=1, keepdims=True)
    return np.divide(values, norm, out=np.zeros_like(values), where=norm > 0)


@dataclass(frozen=True)
class GeneSpace:
    """What is known about each gene, independent of any edge.

    ``expression`` (genes x k): unit rows of the leading expression
    components; ``cell_axes`` (cells x k, fit time only): the components' cell
    loadings, to project TF activities into the same space; ``conditions``
    (genes x groups) and ``embedding`` (genes x d): unit rows, possibly
    0 columns; ``stats`` (genes x 3) the standardised ``gene_stats`` or zeros;
    ``neighbours`` (genes x n_neighbours) each gene's most co-expressed genes.
    """

    expression: np.ndarray
    conditions: np.ndarray
    embedding: np.ndarray
    stats: np.ndarray
    neighbours: np.ndarray
    cell_axes: np.ndarray | None = None

    @property
    def n_genes(self) -> int:
        return len(self.expression)

    def state(self) -> dict[str, np.ndarray]:
        return {
            "expression": self.expression.astype(np.float32),
            "conditions": self.conditions.astype(np.float32),
            "embedding": self.embedding.astype(np.float32),
            "stats": self.stats.astype(np.float32),
            "neighbours": self.neighbours.astype(np.int64),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> GeneSpace:
        return cls(
            expression=np.asarray(state["expression"], dtype=np.float64),
            conditions=np.asarray(state["conditions"], dtype=np.float64),
            embedding=np.asarray(state["embedding"], dtype=np.float64),
            stats=np.asarray(state["stats"], dtype=np.float64),
            neighbours=np.asarray(state["neighbours"], dtype=np.int64),
        )


def gene_space(features: dict[str, np.ndarray], n_genes: int, *, components: int, n_neighbours: int) -> GeneSpace:
    """The :class:`GeneSpace` of the feature groups ``grn_fit`` built."""
    z = features["expression"]
    comps, cell_axes = shared_components(z, min(components, *np.shape(z)))
    # genes are centred over cells already, so the components' dot products are covariances
    expression = unit_rows(comps, centre=False)
    conditions = (
        unit_rows(features["celltype_means"], centre=True) if "celltype_means" in features else np.zeros((n_genes, 0))
    )
    embedding = unit_rows(features["embedding"], centre=False) if "embedding" in features else np.zeros((n_genes, 0))
    stats = np.asarray(features["gene_stats"], dtype=np.float64) if "gene_stats" in features else np.zeros((n_genes, 3))
    return GeneSpace(expression, conditions, embedding, stats, nearest_neighbours(expression, n_neighbours), cell_axes)


def nearest_neighbours(unit: np.ndarray, k: int, block: int = 2048) -> np.ndarray:
    """Each row's ``k`` most similar other rows by dot product (genes x k, most similar first)."""
    n = len(unit)
    k = max(0, min(k, n - 1))
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, block):
        sims = unit[start : start + block] @ unit.T
        rows = np.arange(start, min(start + block, n))
        sims[rows - start, rows] = -np.inf
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k else np.empty((len(rows), 0), np.int64)
        order = np.argsort(-np.take_along_axis(sims, top, axis=1), axis=1, kind="stable")
        out[rows] = np.take_along_axis(top, order, axis=1)
    return out


@dataclass(frozen=True)
class KnownGraph:
    """The known (training) edges and what follows from them alone, for scoring pairs.

    ``scale`` multiplies degree counts (the full training graph over this
    graph's edge count) so that cross-fitted folds and the full graph share a scale.
    """

    space: GeneSpace
    source: np.ndarray
    target: np.ndarray
    activity: np.ndarray  # genes x k: each TF's activity projected into the expression space (0 rows: no activity)
    scale: float = 1.0

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        n = self.space.n_genes
        matrix = sp.csr_matrix((np.ones(len(self.source)), (self.source, self.target)), shape=(n, n))
        matrix.data[:] = 1.0  # duplicates count once
        return matrix

    @cached_property
    def _degrees(self) -> tuple[np.ndarray, np.ndarray]:
        return edge_degrees(self.source, self.target, self.space.n_genes, unique=True)

    @cached_property
    def in_degree(self) -> np.ndarray:
        return self._degrees[1] * self.scale

    @cached_property
    def out_degree(self) -> np.ndarray:
        return self._degrees[0] * self.scale

    @cached_property
    def target_centroid(self) -> np.ndarray:
        """Per TF: the mean expression row of its known targets."""
        return _row_means(self.adjacency, self.space.expression)

    @cached_property
    def regulator_centroid(self) -> np.ndarray:
        """Per gene: the mean expression row of its known regulators."""
        return _row_means(self.adjacency.T.tocsr(), self.space.expression)

    @cached_property
    def target_embedding_centroid(self) -> np.ndarray:
        return _row_means(self.adjacency, self.space.embedding)

    @cached_property
    def known_keys(self) -> np.ndarray:
        coo = self.adjacency.tocoo()
        return np.sort(pair_keys(coo.row, coo.col, self.space.n_genes))

    def pair_features(self, tf: np.ndarray, gene: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(popularity, TF-specific) feature matrices of the pairs, columns in the order of the module constants."""
        tf, gene = np.asarray(tf, dtype=np.int64), np.asarray(gene, dtype=np.int64)
        space = self.space
        popularity = np.column_stack([np.log1p(self.in_degree[gene]), np.log1p(self.out_degree[tf]), space.stats[gene]])
        expr, emb = space.expression, space.embedding
        coexpression = _rowwise_dot(expr, tf, expr, gene)
        specific = np.column_stack(
            [
                coexpression,
                np.abs(coexpression),
                _rowwise_dot(space.conditions, tf, space.conditions, gene),
                _rowwise_dot(self.target_centroid, tf, expr, gene),
                _rowwise_dot(self.regulator_centroid, gene, expr, tf),
                _rowwise_dot(self.activity, tf, expr, gene),
                _neighbour_share(self.known_keys, space.neighbours, tf, gene, space.n_genes),
                _blockwise_pairs(self.shared_regulator_rows, tf, gene),
                _blockwise_pairs(self.shared_target_rows, tf, gene),
                _rowwise_dot(emb, tf, emb, gene),
                _rowwise_dot(self.target_embedding_centroid, tf, emb, gene),
            ]
        )
        return popularity, specific

    def block_features(self, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`pair_features` of each TF in ``tf`` against every gene (rows TF-major: ``len(tf) * n_genes``).

        The same values up to float rounding, from matrix products over the
        block instead of one gather per pair: what scoring every TF x gene
        pair at genome scale runs.
        """
        tf = np.asarray(tf, dtype=np.int64)
        space, n = self.space, self.space.n_genes
        expr, emb = space.expression, space.embedding
        popularity = np.column_stack(
            [
                np.tile(np.log1p(self.in_degree), len(tf)),
                np.repeat(np.log1p(self.out_degree[tf]), n),
                np.tile(space.stats, (len(tf), 1)),
            ]
        )
        unique_tfs, inverse = np.unique(tf, return_inverse=True)
        coexpression = expr[tf] @ expr.T
        specific = np.column_stack(
            [
                m.ravel()
                for m in (
                    coexpression,
                    np.abs(coexpression),
                    space.conditions[tf] @ space.conditions.T,
                    self.target_centroid[tf] @ expr.T,
                    expr[tf] @ self.regulator_centroid.T,
                    self.activity[tf] @ expr.T,
                    np.asarray(self.neighbour_indicator @ self.adjacency[tf].T.toarray()).T,
                    self.shared_regulator_rows(unique_tfs)[inverse],
                    self.shared_target_rows(unique_tfs)[inverse],
                    emb[tf] @ emb.T,
                    self.target_embedding_centroid[tf] @ emb.T,
                )
            ]
        )
        return popularity, specific

    @cached_property
    def neighbour_indicator(self) -> sp.csr_matrix:
        """Genes x genes: ``1 / k`` at each gene's ``k`` nearest neighbours (a known-target share is a product)."""
        n, k = self.space.neighbours.shape
        rows = np.repeat(np.arange(n), k)
        return sp.csr_matrix((np.full(n * k, 1.0 / max(k, 1)), (rows, self.space.neighbours.ravel())), shape=(n, n))

    @cached_property
    def _regulator_overlap(self) -> tuple[np.ndarray, sp.csr_matrix]:
        """Each TF's known-target count and the TF x TF counts of shared known targets."""
        return np.asarray(self.adjacency.sum(axis=1)).ravel(), (self.adjacency @ self.adjacency.T).tocsr()

    def shared_regulator_rows(self, rows: np.ndarray) -> np.ndarray:
        """``shared_regulators`` of the TFs ``rows`` (distinct) against every gene: known-target share of the gene
        among TFs whose target sets overlap the TF's (Jaccard-weighted mean)."""
        degree, overlap_all = self._regulator_overlap
        overlap = overlap_all[rows].toarray()
        union = degree[rows][:, None] + degree[None, :] - overlap
        jaccard = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
        jaccard[np.arange(len(rows)), rows] = 0.0
        total = jaccard.sum(axis=1, keepdims=True)
        shares = np.asarray(self.adjacency.T @ jaccard.T).T
        return np.divide(shares, total, out=np.zeros((len(rows), self.adjacency.shape[1])), where=total > 0)

    @cached_property
    def _regulator_profiles(self) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Each gene's unit regulator profile (genes x regulating TFs) and each TF's mean profile of its targets."""
        # only TFs with known targets can be regulators: the other columns are zero (genes x genes would not fit at
        # genome scale, genes x regulating TFs does)
        adjacency = self.adjacency
        regulating = np.flatnonzero(np.diff(adjacency.indptr) > 0)
        regulators = adjacency[regulating].T.tocsr()  # gene x regulating-TF membership
        norm = np.sqrt(np.asarray(regulators.sum(axis=1)).ravel())
        unit = (sp.diags(np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0)) @ regulators).tocsr()
        centroids = sp.csr_matrix(_row_means(adjacency, unit.toarray()))  # TF x TF: mean regulator profile of targets
        return unit, centroids

    def shared_target_rows(self, rows: np.ndarray) -> np.ndarray:
        """``shared_targets`` of the TFs ``rows`` against every gene: mean cosine similarity between the gene's
        regulator set and those of the TF's known targets."""
        unit, centroids = self._regulator_profiles
        return np.asarray((centroids[rows] @ unit.T).todense())


def _rowwise_dot(left: np.ndarray, left_rows: np.ndarray, right: np.ndarray, right_rows: np.ndarray) -> np.ndarray:
    if left.shape[1] == 0:
        return np.zeros(len(left_rows))
    return np.einsum("ij,ij->i", left[left_rows], right[right_rows])


def _row_means(adjacency: sp.csr_matrix, values: np.ndarray) -> np.ndarray:
    """Per row of ``adjacency``: the mean of ``values`` over its non-zero columns (0 for empty rows)."""
    counts = np.asarray(adjacency.sum(axis=1)).ravel()
    sums = adjacency @ values
    return np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)


def _neighbour_share(known: np.ndarray, neighbours: np.ndarray, tf: np.ndarray, gene: np.ndarray, n: int) -> np.ndarray:
    """Share of the gene's nearest co-expression neighbours that are known targets of the TF (sorted ``known`` keys)."""
    if neighbours.shape[1] == 0:
        return np.zeros(len(tf))
    keys = tf[:, None] * n + neighbours[gene]
    position = np.clip(np.searchsorted(known, keys), 0, max(len(known) - 1, 0))
    hits = known[position] == keys if len(known) else np.zeros(keys.shape, bool)
    return hits.mean(axis=1)


def _blockwise_pairs(block_of: Any, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
    """Values ``M[tf, gene]`` of a TF x gene matrix built ``_CHUNK_TFS`` TF rows at a time by ``block_of(tf_rows)``."""
    out = np.zeros(len(tf))
    unique_tfs = np.unique(tf)
    for start in range(0, len(unique_tfs), _CHUNK_TFS):
        rows = unique_tfs[start : start + _CHUNK_TFS]
        block = block_of(rows)
        mask = np.isin(tf, rows)
        out[mask] = block[np.searchsorted(rows, tf[mask]), gene[mask]]
    return out


def tf_activity_axes(
    z: np.ndarray, cell_axes: np.ndarray, source: np.ndarray, target: np.ndarray, min_targets: int
) -> np.ndarray:
    """Each TF's decoupler ULM activity over cells, as a vector in the expression-component space (genes x k).

    The activity of a TF in a cell is the t-value of the ULM slope of the
    cell's standardised expression on the TF's known-target indicator. Its
    correlation with a gene across cells is then the dot product of the
    returned row with the gene's unit expression row.
    """
    import decoupler as dc

    n_genes, k = z.shape[0], cell_axes.shape[1]
    out = np.zeros((n_genes, k))
    counts, _ = edge_degrees(source, target, n_genes)
    keep = counts[source] >= max(min_targets, 1)
    if not keep.any():
        return out
    names = np.array([f"g{i}" for i in range(n_genes)])
    net = pd.DataFrame({"source": names[source[keep]], "target": names[target[keep]], "weight": 1.0})
    cells = pd.DataFrame(z.T, index=[f"c{i}" for i in range(z.shape[1])], columns=names)
    activity, _ = dc.mt.ulm(cells, net, tmin=max(min_targets, 1), verbose=False)
    rows = np.array([int(name[1:]) for name in activity.columns], dtype=np.int64)
    values = activity.to_numpy(dtype=np.float64)
    values = np.nan_to_num(values - values.mean(axis=0))
    norm = np.linalg.norm(values, axis=0)
    projected = (cell_axes.T @ values) / np.where(norm > 0, norm, 1.0)  # k x TFs
    out[rows] = projected.T
    return out


def degree_matched_weights(log_degree: np.ndarray, label: np.ndarray, n_bins: int) -> np.ndarray:
    """Sample weights under which negatives and positives weigh the same within each target-degree bin.

    Bins are quantiles of the positives' log degree. A bin without negatives
    (or without positives) gets weight 0: it holds no degree-matched contrast.
    """
    positive = label == 1
    edges = np.unique(np.quantile(log_degree[positive], np.linspace(0, 1, n_bins + 1)[1:-1]))
    bins = np.searchsorted(edges, log_degree, side="right")
    weights = np.zeros(len(label))
    for b in np.unique(bins):
        in_bin = bins == b
        n_pos, n_neg = int((in_bin & positive).sum()), int((in_bin & ~positive).sum())
        if has_both_classes(label[in_bin]):
            weights[in_bin & positive] = 1.0
            weights[in_bin & ~positive] = n_pos / n_neg
    return weights * len(label) / max(weights.sum(), 1e-12)


def cross_fitted_features(
    train: PairSet, folds: np.ndarray, n_genes: int, make_graph: Callable[[PairSet, float], KnownGraph]
) -> tuple[np.ndarray, np.ndarray]:
    """Features of every training pair from a graph of the other folds' positives only.

    ``make_graph(known, scale)`` builds the :class:`KnownGraph` of the known
    positives; ``scale`` is the full training graph's edge count over theirs.
    """
    positives = train.subset(train.label == 1)
    positive_keys = pair_keys(positives.tf, positives.gene, n_genes)
    popularity = np.zeros((len(train), len(POPULARITY_FEATURES)))
    specific = np.zeros((len(train), len(TF_SPECIFIC_FEATURES)))
    for fold in np.unique(folds):
        in_fold = folds == fold
        fold_keys = pair_keys(train.tf[in_fold], train.gene[in_fold], n_genes)
        known = positives.subset(~np.isin(positive_keys, fold_keys))
        graph = make_graph(known, len(positives) / max(len(known), 1))
        popularity[in_fold], specific[in_fold] = graph.pair_features(train.tf[in_fold], train.gene[in_fold])
    return popularity, specific
