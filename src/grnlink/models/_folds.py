"""Folds of labelled pairs per TF and label, shared by the models that cross-fit (``stack``, ``degree_adjusted``).

Cross-fitting splits the training pairs into folds and computes what a pair
sees (a base model's score, a degree, a graph feature) from the other folds
only. Both models split each TF's positives, and its negatives, evenly over
the folds, so that every fold holds every TF about as it holds the whole
training set. They deal them in two ways, kept because each model's stored
scores depend on its own assignment:

- ``"stratified"`` (``stack``): scikit-learn's shuffled
  :class:`~sklearn.model_selection.StratifiedKFold` over the TF x label strata;
  refuses fold counts the pairs cannot fill (:class:`~grnlink.InputError`).
- ``"round_robin"`` (``degree_adjusted``): each TF's positives, then its
  negatives, shuffled and dealt to the folds in turn from a random first fold.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from sklearn.model_selection import StratifiedKFold

from .._metrics import has_both_classes
from .._pairs import PairSet
from .._validation import InputError

FoldDeal = Literal["stratified", "round_robin"]
AUTO_COMBINE_PAIRS = 16_384  # "auto" combine_on: out of fold up to this many training pairs
AUTO_VALIDATION_PAIRS = 500  # per class: "auto" combines on the validation pairs only when they hold this many


def validation_suffices(n_train: int, val: PairSet) -> bool:
    """The ``combine_on="auto"`` rule of ``stack`` and ``degree_adjusted``: combine on the validation pairs.

    True above :data:`AUTO_COMBINE_PAIRS` training pairs, where the fold fits
    cost most of a fit, when the validation pairs hold at least
    :data:`AUTO_VALIDATION_PAIRS` positives and as many negatives (a
    genome-scale prior's hold about 3,000 of each); a combiner of a few
    weights is then as well determined there as out of fold.
    """
    enough = min(val.n_pos, len(val) - val.n_pos) >= AUTO_VALIDATION_PAIRS
    return n_train > AUTO_COMBINE_PAIRS and enough


def tf_label_folds(pairs: PairSet, n_folds: int, seed: int, *, deal: FoldDeal = "stratified") -> np.ndarray:
    """Fold (0 .. ``n_folds - 1``) of each pair, each TF's positives and negatives spread evenly over the folds.

    Parameters
    ----------
    pairs
        Labelled pairs.
    n_folds
        Number of folds (at least 2).
    seed
        Seed of the shuffle; the same seed gives the same folds.
    deal
        ``"stratified"``: :class:`~sklearn.model_selection.StratifiedKFold`
        over the TF x label strata (a TF with fewer pairs of a label than folds
        misses some folds); raises :class:`~grnlink.InputError` when no stratum
        fills every fold or some fold's complement lacks positives or negatives.
        ``"round_robin"``: per label (positives first) and TF, a shuffle dealt
        to the folds in turn from a random first fold; no check.

    Returns
    -------
    One int64 fold per pair.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._pairs import PairSet
    >>> from grnlink.models._folds import tf_label_folds
    >>> pairs = PairSet(np.repeat([0, 1], 4), np.arange(8), np.tile([1, 1, 0, 0], 2))
    >>> np.bincount(tf_label_folds(pairs, 2, seed=0)).tolist()
    [4, 4]
    """
    if deal == "round_robin":
        return _round_robin(pairs, n_folds, np.random.default_rng(seed))
    return _stratified(pairs, n_folds, seed)


def _stratified(pairs: PairSet, n_folds: int, seed: int) -> np.ndarray:
    strata = pairs.tf * 2 + pairs.label.astype(np.int64)
    if len(pairs) < n_folds or np.unique(strata, return_counts=True)[1].max() < n_folds:
        raise InputError(
            f"n_folds={n_folds} is more than any TF has training positives or negatives; lower n_folds "
            "or give a larger prior."
        )
    fold = np.empty(len(pairs), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # TFs with fewer pairs than folds are expected and handled
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        for k, (_, held) in enumerate(splitter.split(np.zeros(len(pairs)), strata)):
            fold[held] = k
    for k in range(n_folds):
        if not has_both_classes(pairs.label[fold != k]):
            raise InputError(
                f"with n_folds={n_folds}, fold {k}'s training part lacks positives or negatives; lower n_folds."
            )
    return fold


def _round_robin(pairs: PairSet, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    folds = np.empty(len(pairs), dtype=np.int64)
    for label in (1.0, 0.0):
        for tf in np.unique(pairs.tf):
            members = np.flatnonzero((pairs.tf == tf) & (pairs.label == label))
            start = int(rng.integers(n_folds))
            folds[rng.permutation(members)] = (start + np.arange(len(members))) % n_folds
    return folds
