"""``degree_adjusted``: target popularity modelled on its own, the TF-specific part learned on top.

On BEELINE data a control that only counts training edges (how many TFs bind a
target, how many targets a TF has) ranks each TF's held-out targets about as
well as every published model (per-TF AUROC of each model and of this control
on six BEELINE networks: ``benchmarks/results/celltypes.md``). A model trained on
TF-matched negatives learns that shortcut first: popular targets are easy
positives. Following Aiyappa et al. (ICML 2025, "Implicit degree bias in the
link prediction task"), this model separates the two:

1. **popularity part**: a logistic regression of the label on the target's
   training in-degree and the TF's out-degree (log scale) and, when given, the
   target's expression level, spread and detection rate (``gene_stats``): a
   per-target term that says how often a gene like this one is a target;
2. **TF-specific part**: gradient-boosted trees on what a degree count cannot
   know, trained against **degree-matched negatives** (the training negatives
   re-weighted so that, within each bin of target in-degree, negatives weigh
   as much as positives), so that popularity alone cannot separate the
   classes. Its pair features:

   - ``coexpression``: TF-target correlation across cells, and its absolute value;
   - ``condition_coexpression``: correlation of the two genes' mean
     expression across ``groupby`` groups (conditions, stages, cell types);
   - ``known_target_coexpression``: correlation of the target with the
     centroid of the TF's other known targets;
   - ``regulator_coexpression``: correlation of the TF with the centroid of
     the target's other known regulators;
   - ``activity_correlation``: correlation across cells of the target with
     the TF's activity, inferred by decoupler's univariate linear model
     (``dc.mt.ulm``) from the TF's known targets;
   - ``neighbour_targets``: share of the target's ``n_neighbours`` most
     co-expressed genes that are known targets of the TF;
   - ``shared_regulators``: known targets of TFs whose target sets overlap
     the TF's (Jaccard-weighted), and ``shared_targets``: similarity of the
     target's regulators to the regulators of the TF's known targets;
   - ``embedding_similarity`` and ``known_target_embedding``: the same two
     ideas on scFM gene embeddings (``embedding_key``), when given;
3. **combination**: a logistic regression of the labels on the two parts'
   log-odds; the score is its probability. By default
   (``combine_on="out_of_fold"``) it is fitted on out-of-fold log-odds of the
   training pairs (both parts refitted without each fold), thousands of pairs
   rather than the few validation pairs, which stay an honest check
   (``training["val_auroc_parts"]``); ``combine_on="validation"`` fits it on
   the validation pairs instead, and ``"auto"`` (the default) does so on the
   same rule as ``stack``: above 16,384 training pairs, where the five
   out-of-fold refits of both parts cost a third of a genome-scale fit, when
   the validation pairs hold 500 of each class
   (:func:`grnlink.models._folds.validation_suffices`; no BEELINE network comes
   near; forced on them, level on average: ``benchmarks/results/auto_rules_degree_combine.md``).
   The resolved choice is in ``training["combine_on"]``.

**No leak, by construction.** "Known" edges are training positives only:
validation, test and excluded pairs never enter a feature, the graph or the
activity estimate. Features of training pairs are cross-fitted: the training
positives are split into ``n_folds`` folds per TF, and a fold's pairs (its
positives and the negatives assigned to it) get features computed from the
other folds' edges only, so no training pair's features contain its own edge
(its target's degree does not count it, its TF's activity is inferred without
it). Count features are rescaled to the full training graph's scale. The
degree-matched negatives are the training negatives ``grn_fit`` handed over,
re-weighted rather than re-drawn, so the model never picks a pair that
``grn_fit`` kept out. Validation and new pairs are scored with features from
every training edge.

Correlations are computed in the space of the leading ``components``
principal components of standardised expression (a denoised correlation; each
gene a unit vector), which keeps the stored state at genes x ``components``.

Options and defaults: ``n_folds`` (5), ``components`` (50), ``n_neighbours``
(15), ``activity`` (True: decoupler TF activities), ``activity_min_targets``
(3: TFs with fewer known targets get activity 0), ``degree_bins`` (10),
``combine_on`` ("auto"), ``n_trees`` (100), ``learning_rate`` (0.1), ``max_leaf_nodes`` (15),
``min_samples_leaf`` (20), ``l2_regularization`` (1.0). 100 trees at rate 0.1 score level with 200 at 0.05 on
the validation pairs of the six BEELINE networks, alone and inside ``stack``, at half the trees to evaluate
(``benchmarks/results/degree_trees.md``, ``benchmarks/results/stack_trees.md``).

Examples
--------
>>> import grnlink as gl
>>> adata = gl.ds.simulate(seed=0)
>>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="degree_adjusted", groupby="cell_type")
>>> edges = gl.tl.grn_predict(adata, top_k=20)
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.metrics import roc_auc_score

from .._metrics import has_both_classes
from .._pairs import PairSet
from .._validation import (
    BOOLEAN,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    int_at_least,
    one_of,
)
from ._base import LinkPredictor
from ._boosting import boosted_logits, fit_boosted_trees
from ._degree_features import (
    GeneSpace,
    KnownGraph,
    cross_fitted_features,
    degree_matched_weights,
    gene_space,
    nearest_neighbours,
    tf_activity_axes,
    unit_rows,
)
from ._folds import tf_label_folds, validation_suffices
from ._logistic import fit_scaled_logistic, scaled_logits
from ._neural import shared_components
from ._registry import register

COMBINE_ON = ("auto", "out_of_fold", "validation")
_MATRIX_PAIRS = 1 << 19  # pairs whose features score_matrix builds at once (about 70 MiB of feature columns)
_BOOSTING_OPTIONS = ("n_trees", "learning_rate", "max_leaf_nodes", "min_samples_leaf", "l2_regularization")


@register
class DegreeAdjusted(LinkPredictor):
    """Target popularity as its own term; the TF-specific part trained on degree-matched negatives (see module doc)."""

    name = "degree_adjusted"
    paper = "this package; degree-matched training after Aiyappa et al. 2025"
    requires = ("expression", "gene_stats")
    defaults: dict[str, Any] = {
        "n_folds": 5,
        "components": 50,
        "n_neighbours": 15,
        "activity": True,
        "activity_min_targets": 3,
        "degree_bins": 10,
        "combine_on": "auto",
        "n_trees": 100,
        "learning_rate": 0.1,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 20,
        "l2_regularization": 1.0,
    }
    schema = {
        "n_folds": int_at_least(2),
        "components": POSITIVE_INT,
        "n_neighbours": POSITIVE_INT,
        "activity": BOOLEAN,
        "activity_min_targets": NON_NEGATIVE_INT,
        "degree_bins": POSITIVE_INT,
        "combine_on": one_of(*COMBINE_ON),
        "n_trees": POSITIVE_INT,
        "learning_rate": POSITIVE_NUMBER,
        "max_leaf_nodes": int_at_least(2),
        "min_samples_leaf": POSITIVE_INT,
        "l2_regularization": NON_NEGATIVE_NUMBER,
    }
    search_space: dict[str, tuple] = {
        "n_neighbours": ("int", 5, 30),
        "learning_rate": ("float", 0.02, 0.2, "log"),
        "max_leaf_nodes": ("categorical", [7, 15, 31]),
        "min_samples_leaf": ("int", 5, 50, "log"),
        "l2_regularization": ("float", 0.1, 10.0, "log"),
    }
    gene_positions = ("known/source", "known/target")
    per_group = True

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        self.check_features(features)
        self.features = {}
        z = np.asarray(features["expression"], dtype=np.float64)
        space = gene_space(
            features, n_genes, components=self.params["components"], n_neighbours=self.params["n_neighbours"]
        )
        positives = train.subset(train.label == 1)
        folds = tf_label_folds(train, int(self.params["n_folds"]), seed, deal="round_robin")
        popularity, specific = cross_fitted_features(
            train, folds, n_genes, lambda known, scale: self._graph(space, z, known, scale=scale)
        )
        label = train.label.astype(np.int64)
        self.graph = self._graph(space, z, positives, scale=1.0)
        self.popularity_model, self.trees = self._fit_parts(popularity, specific, label, seed)
        combine_on = self.params["combine_on"]
        if combine_on == "auto":
            combine_on = "validation" if validation_suffices(len(train), val) else "out_of_fold"
        if combine_on == "out_of_fold":
            out_of_fold = np.zeros((len(train), 2))
            for fold in np.unique(folds):
                held, rest = folds == fold, folds != fold
                models = self._fit_parts(popularity[rest], specific[rest], label[rest], seed)
                out_of_fold[held] = part_logits(*models, popularity[held], specific[held])
            self.combiner = fit_scaled_logistic(out_of_fold, label, seed, standardise=False)
        elif has_both_classes(val.label):
            val_parts = part_logits(self.popularity_model, self.trees, *self.graph.pair_features(val.tf, val.gene))
            self.combiner = fit_scaled_logistic(val_parts, val.label.astype(np.int64), seed, standardise=False)
        else:
            self.combiner = {"mean": np.zeros(2), "scale": np.ones(2), "coef": np.ones(2), "intercept": np.zeros(1)}
        return {"combine_on": combine_on, **self._history(val)}

    def _fit_parts(self, popularity: np.ndarray, specific: np.ndarray, label: np.ndarray, seed: int):
        """The popularity part (logistic) and the TF-specific part (trees on degree-matched weights)."""
        popularity_model = fit_scaled_logistic(popularity, label, seed)
        weights = degree_matched_weights(popularity[:, 0], label, int(self.params["degree_bins"]))
        trees = fit_boosted_trees(
            specific, label, sample_weight=weights, seed=seed, **{k: self.params[k] for k in _BOOSTING_OPTIONS}
        )
        return popularity_model, trees

    def _graph(self, space: GeneSpace, z: np.ndarray, known: PairSet, *, scale: float) -> KnownGraph:
        activity = np.zeros_like(space.expression)
        if self.params["activity"]:
            activity = tf_activity_axes(
                z, space.cell_axes, known.tf, known.gene, int(self.params["activity_min_targets"])
            )
        return KnownGraph(space, known.tf, known.gene, activity, scale)

    def _history(self, val: PairSet) -> dict[str, Any]:
        """The parts' weights and, with validation pairs of both classes, each part's and the score's AUROC there."""
        history: dict[str, Any] = {"combiner_coef": np.asarray(self.combiner["coef"], dtype=np.float64)}
        if has_both_classes(val.label):
            parts = part_logits(self.popularity_model, self.trees, *self.graph.pair_features(val.tf, val.gene))
            combined = scaled_logits(self.combiner, parts)
            history["val_auroc_parts"] = np.array(
                [roc_auc_score(val.label, parts[:, i]) for i in range(2)] + [roc_auc_score(val.label, combined)]
            )
        return history

    def for_cells(self, features: dict[str, np.ndarray], cells: np.ndarray) -> DegreeAdjusted:
        """Co-expression, neighbours, TF activity and gene statistics from the given cells' features; the
        learned parts, the known graph, cell-type means and embeddings stay the fit's."""
        fitted = self.graph.space
        z = np.asarray(features["expression"], dtype=np.float64)
        comps, cell_axes = shared_components(z, min(int(self.params["components"]), *np.shape(z)))
        expression = unit_rows(comps, centre=False)
        stats = np.asarray(features["gene_stats"], dtype=np.float64)
        space = GeneSpace(
            expression,
            fitted.conditions,
            fitted.embedding,
            stats,
            nearest_neighbours(expression, int(self.params["n_neighbours"])),
            cell_axes,
        )
        known = PairSet(self.graph.source, self.graph.target, np.ones(len(self.graph.source)))
        within = copy.copy(self)
        within.graph = self._graph(space, z, known, scale=self.graph.scale)
        return within

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        parts = part_logits(self.popularity_model, self.trees, *self.graph.pair_features(tf, gene))
        return expit(scaled_logits(self.combiner, parts))

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray:
        """:meth:`score` of each TF in ``tf`` against every gene, the features of a few TFs at a time built by
        matrix products (:meth:`KnownGraph.block_features`) rather than gathered pair by pair."""
        tf = np.asarray(tf, dtype=np.int64)
        out = np.empty((len(tf), n_genes))
        step = max(1, _MATRIX_PAIRS // max(n_genes, 1))
        for start in range(0, len(tf), step):
            parts = part_logits(self.popularity_model, self.trees, *self.graph.block_features(tf[start : start + step]))
            out[start : start + step] = expit(scaled_logits(self.combiner, parts)).reshape(-1, n_genes)
        return out

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        return ()  # the expression components it scores with are part of the state

    def get_state(self) -> dict[str, Any]:
        return {
            "space": self.graph.space.state(),
            "known": {"source": self.graph.source.astype(np.int64), "target": self.graph.target.astype(np.int64)},
            "activity": self.graph.activity.astype(np.float64),
            "popularity": self.popularity_model,
            "trees": self.trees,
            "combiner": self.combiner,
        }

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.features = {}
        known = state["known"]
        self.graph = KnownGraph(
            GeneSpace.from_state(state["space"]),
            np.asarray(known["source"], dtype=np.int64),
            np.asarray(known["target"], dtype=np.int64),
            np.asarray(state["activity"], dtype=np.float64),
        )
        self.popularity_model = {k: np.asarray(v, dtype=np.float64) for k, v in state["popularity"].items()}
        self.trees = {k: np.asarray(v) for k, v in state["trees"].items()}
        self.combiner = {k: np.asarray(v, dtype=np.float64) for k, v in state["combiner"].items()}


def part_logits(popularity_model, trees, popularity: np.ndarray, specific: np.ndarray) -> np.ndarray:
    """Log-odds of the popularity and the TF-specific parts (pairs x 2)."""
    return np.column_stack([scaled_logits(popularity_model, popularity), boosted_logits(trees, specific)])
