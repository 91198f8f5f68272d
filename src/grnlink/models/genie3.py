"""``genie3``: tree-ensemble regulator importance, the unsupervised GENIE3 baseline.

Paper: Huynh-Thu, Irrthum, Wehenkel and Geurts (2010), "Inferring regulatory
networks from expression data using tree-based methods", PLoS ONE 5(9): e12776.

For every gene, a random forest regresses the gene's per-cell expression on
the per-cell expression of the regulators (every regulator but the gene
itself); a regulator's importance in that forest is the score of the pair
(regulator, gene). Nothing is learned from the prior's edges: it only says
which genes are regulators (the TFs of its training and validation
positives). Negatives, validation labels and ``exclude`` play no part.

Defaults: GENIE3's random forest (``tree_method="RF"``) with
``max_features="sqrt"`` regulators tried per split and fully grown trees,
40 trees per target. ``tree_method="ET"`` (extra trees, GENIE3's other
choice) grows a tree in about half the time. Threads come from
``scanpy.settings.n_jobs`` (one target's forest per thread); each target's
forest is seeded from the fit seed, so the same seed gives the same scores
whatever the number of threads.

Changes from the paper, and why:

- 40 trees per target instead of 1000, to keep a fit on BEELINE mDC (821
  targets) within a minute on two cores. Held-out per-TF AUROC on mDC
  Non-Specific rises slowly with the number of trees (20 to 100), and 50
  extra trees come close to 100 random-forest trees in a third of the time
  (``benchmarks/results/design_checks.md``; genie3 at its defaults beside the
  other models: ``benchmarks/results/models_mDC.md``). Raise ``n_estimators``
  when time allows;
- importances are scikit-learn's ``feature_importances_``, normalised to sum
  to 1 over each target's regulators. The reference implementation keeps the
  unnormalised impurity decrease of a unit-variance target (its sum is the
  variance the forest explains, close to 1 with fully grown trees), so the
  two differ little; a target constant over the cells has no split and
  scores 0 with every regulator;
- the input is the standardised per-cell expression that ``grn_fit`` builds
  (``max_cells`` subsample), not the raw matrix;
- a pair whose TF is not a regulator (not a TF of the prior) scores 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.utils.parallel import Parallel, delayed
from tqdm.auto import tqdm

from .._pairs import PairSet
from .._settings import n_jobs, progress_disabled
from .._validation import POSITIVE_INT, InputError, any_of, number_in, one_of
from ._base import LinkPredictor
from ._registry import register

TREE_METHODS = {"RF": RandomForestRegressor, "ET": ExtraTreesRegressor}


def prior_regulators(train: PairSet, val: PairSet) -> np.ndarray:
    """Sorted positions of the TFs with a positive pair in ``train`` or ``val`` (the prior's TFs)."""
    tfs = [train.tf[train.label == 1], val.tf[val.label == 1]]
    return np.unique(np.concatenate(tfs)).astype(np.int64)


def target_seeds(seed: int, n_genes: int) -> np.ndarray:
    """One independent ``random_state`` per target gene, a pure function of ``seed``."""
    return np.random.SeedSequence(seed).generate_state(n_genes, dtype=np.uint32).astype(np.int64)


def check_options(tree_method: str, n_estimators: int) -> None:
    """Raise on a tree method or forest size GENIE3 does not know."""
    if tree_method not in TREE_METHODS:
        raise InputError(f"tree_method must be one of {sorted(TREE_METHODS)} (GENIE3's names), got {tree_method!r}.")
    if not (isinstance(n_estimators, (int, np.integer)) and n_estimators >= 1):
        raise InputError(f"n_estimators must be a positive integer, got {n_estimators!r}.")


def make_forest(
    tree_method: str, n_estimators: int, max_features: Any, random_state: int
) -> RandomForestRegressor | ExtraTreesRegressor:
    """The single-threaded scikit-learn tree ensemble GENIE3 fits for one target."""
    return TREE_METHODS[tree_method](
        n_estimators=n_estimators, max_features=max_features, n_jobs=1, random_state=random_state
    )


def regulator_importances(
    z: np.ndarray,
    regulators: np.ndarray,
    *,
    tree_method: str = "RF",
    n_estimators: int = 40,
    max_features: Any = "sqrt",
    seed: int = 0,
    jobs: int = 1,
    desc: str = "genie3",
) -> np.ndarray:
    """GENIE3 importance of every regulator for every gene.

    Parameters
    ----------
    z
        Genes x cells expression, each gene standardised over the cells.
    regulators
        Positions of the regulator genes (rows of ``z``).
    tree_method, n_estimators, max_features
        ``"RF"`` (random forest) or ``"ET"`` (extra trees), trees per target,
        regulators tried per split (scikit-learn's ``max_features``).
    seed
        Seeds every target's forest (see :func:`target_seeds`).
    jobs
        Threads; each grows the forests of its share of the targets.
    desc
        Progress bar label.

    Returns
    -------
    Regulators x genes float32 matrix; column ``g`` sums to 1 over the
    regulators other than ``g`` (0 when ``g`` is constant or has no regulator).
    """
    check_options(tree_method, n_estimators)
    n_genes = z.shape[0]
    x = np.ascontiguousarray(z[regulators].T, dtype=np.float32)  # cells x regulators
    seeds = target_seeds(seed, n_genes)

    def one_target(gene: int) -> tuple[np.ndarray, np.ndarray]:
        inputs = np.flatnonzero(regulators != gene)  # a TF as target does not regress on itself
        y = z[gene]
        if len(inputs) == 0 or not np.ptp(y) > 0:
            return inputs[:0], np.zeros(0, dtype=np.float32)
        forest = make_forest(tree_method, n_estimators, max_features, int(seeds[gene]))
        forest.fit(x[:, inputs], y)
        return inputs, forest.feature_importances_.astype(np.float32)

    out = np.zeros((len(regulators), n_genes), dtype=np.float32)
    # one forest per thread: a forest of a few hundred cells is too small to split across threads
    # without the dispatch costing more than it saves; tree growing releases the GIL
    with Parallel(n_jobs=jobs, prefer="threads", return_as="generator") as parallel:
        results = parallel(delayed(one_target)(gene) for gene in range(n_genes))
        bar = tqdm(results, total=n_genes, desc=desc, disable=progress_disabled(), leave=False, mininterval=0.5)
        for gene, (inputs, importance) in enumerate(bar):
            out[inputs, gene] = importance
    return out


@register
class GENIE3(LinkPredictor):
    """GENIE3 tree-ensemble importance (unsupervised baseline; the prior's edges are ignored).

    The regulators are the TFs of the prior (those with a training or
    validation positive); only this TF list is taken from the prior. Each
    gene's expression is regressed on the regulators' expression and a
    regulator's importance is the score. Pairs whose TF is not a regulator
    score 0.

    Options (``gl.tl.grn_fit(..., model="genie3", **options)``):

    ``tree_method`` ("RF")
        ``"RF"`` random forest (GENIE3's default) or ``"ET"`` extra trees.
    ``n_estimators`` (40)
        Trees per target gene (the paper: 1000; see the module docstring for the trade-off).
    ``max_features`` ("sqrt")
        Regulators tried per split: ``"sqrt"`` (GENIE3's K), ``None`` for all,
        an int or a fraction, as in scikit-learn.

    Threads: ``scanpy.settings.n_jobs``. Progress: shown at scanpy verbosity 2+.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=100, n_tfs=10, n_cells=200, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="genie3", n_estimators=20)
    >>> edges = gl.tl.grn_predict(adata)
    """

    name = "genie3"
    paper = "Huynh-Thu et al. 2010, GENIE3 (PLoS ONE 5:e12776); baseline"
    supervised = False
    requires = ("expression",)
    gene_positions = ("regulators",)
    defaults: dict[str, Any] = {"tree_method": "RF", "n_estimators": 40, "max_features": "sqrt"}
    schema = {
        "tree_method": one_of(*TREE_METHODS),
        "n_estimators": POSITIVE_INT,
        "max_features": any_of(
            one_of("sqrt", "log2", None), POSITIVE_INT, number_in(0, 1, low_open=True, high_open=False)
        ),
    }
    search_space: dict[str, tuple] = {
        "tree_method": ("categorical", ["RF", "ET"]),
        "n_estimators": ("int", 20, 100),
        "max_features": ("categorical", ["sqrt", None]),
    }

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.importance = np.zeros((0, 0), dtype=np.float32)
        self.regulators = np.zeros(0, dtype=np.int64)
        self._row = np.zeros(0, dtype=np.int64)

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        self.check_features(features)
        self.features = features
        jobs = n_jobs()
        regulators = prior_regulators(train, val)
        importance = regulator_importances(
            np.asarray(features["expression"], dtype=np.float32),
            regulators,
            tree_method=self.params["tree_method"],
            n_estimators=self.params["n_estimators"],
            max_features=self.params["max_features"],
            seed=seed,
            jobs=jobs,
            desc=self.name,
        )
        self._set(regulators, importance, n_genes)
        return {"n_regulators": len(regulators), "n_jobs": jobs}

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        tf, gene = np.asarray(tf, dtype=np.int64), np.asarray(gene, dtype=np.int64)
        row = self._row[tf]
        out = np.zeros(len(tf), dtype=np.float64)
        known = row >= 0
        out[known] = self.importance[row[known], gene[known]]
        return out

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        return ()

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray:
        row = self._row[np.asarray(tf, dtype=np.int64)]
        out = np.zeros((len(row), n_genes), dtype=np.float64)
        out[row >= 0] = self.importance[row[row >= 0]]
        return out

    def get_state(self) -> dict[str, Any]:
        return {"importance": self.importance, "regulators": self.regulators}

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.features = features
        regulators = np.asarray(state["regulators"], dtype=np.int64).ravel()
        importance = np.asarray(state["importance"], dtype=np.float32).reshape(len(regulators), n_genes)
        self._set(regulators, importance, n_genes)

    def _set(self, regulators: np.ndarray, importance: np.ndarray, n_genes: int) -> None:
        self.regulators, self.importance = regulators, importance
        self._row = np.full(n_genes, -1, dtype=np.int64)
        self._row[regulators] = np.arange(len(regulators))
