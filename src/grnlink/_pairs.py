"""TF-gene pair sets and negative sampling, shared by fitting and benchmarks.

Pairs are held as integer positions into the fitted gene list. A pair key
``tf * n_genes + gene`` lets sets of pairs be compared with numpy set
operations instead of Python sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NEGATIVE_STRATEGIES = ("tf_matched", "uniform", "hard")


@dataclass(frozen=True)
class PairSet:
    """TF and gene positions of labelled pairs (label 1 = regulatory edge)."""

    tf: np.ndarray
    gene: np.ndarray
    label: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "tf", np.asarray(self.tf, dtype=np.int64))
        object.__setattr__(self, "gene", np.asarray(self.gene, dtype=np.int64))
        object.__setattr__(self, "label", np.asarray(self.label, dtype=np.float32))

    def __len__(self) -> int:
        return len(self.tf)

    @property
    def n_pos(self) -> int:
        return int(self.label.sum())

    def subset(self, index: np.ndarray) -> PairSet:
        return PairSet(self.tf[index], self.gene[index], self.label[index])

    @staticmethod
    def concat(*sets: PairSet) -> PairSet:
        return PairSet(
            np.concatenate([s.tf for s in sets]),
            np.concatenate([s.gene for s in sets]),
            np.concatenate([s.label for s in sets]),
        )


def pair_keys(tf: np.ndarray, gene: np.ndarray, n_genes: int) -> np.ndarray:
    """One int64 key per pair, equal keys for equal (tf, gene)."""
    return np.asarray(tf, dtype=np.int64) * n_genes + np.asarray(gene, dtype=np.int64)


def edge_degrees(
    source: np.ndarray, target: np.ndarray, n_genes: int, *, unique: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per gene position: out-degree as a source and in-degree as a target of the edges ``(source, target)``.

    The one degree count of grnlink (the ``stack`` controls, ``degree_adjusted``'s
    popularity features, :func:`grnlink.bm.degree_scores`). ``unique=True``
    counts an edge listed twice once. Both arrays have length ``n_genes``, float64.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink._pairs import edge_degrees
    >>> out_degree, in_degree = edge_degrees(np.array([0, 0, 1, 0]), np.array([1, 2, 2, 1]), 3)
    >>> out_degree.tolist(), in_degree.tolist()
    ([3.0, 1.0, 0.0], [0.0, 2.0, 2.0])
    >>> edge_degrees(np.array([0, 0, 1, 0]), np.array([1, 2, 2, 1]), 3, unique=True)[0].tolist()
    [2.0, 1.0, 0.0]
    """
    source, target = np.asarray(source, dtype=np.int64), np.asarray(target, dtype=np.int64)
    if unique:
        keys = np.unique(pair_keys(source, target, n_genes))
        source, target = keys // n_genes, keys % n_genes
    out_degree = np.bincount(source, minlength=n_genes).astype(np.float64)
    in_degree = np.bincount(target, minlength=n_genes).astype(np.float64)
    return out_degree, in_degree


def _n_negatives(n_pos: int, ratio: float) -> int:
    return int(round(n_pos * ratio))


def sample_negatives(
    pos_tf: np.ndarray,
    pos_gene: np.ndarray,
    n_genes: int,
    *,
    strategy: str = "tf_matched",
    ratio: float = 1.0,
    forbidden: np.ndarray | None = None,
    coexpression: Callable[[int], np.ndarray] | None = None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw non-edges for the positive pairs ``(pos_tf, pos_gene)``.

    Parameters
    ----------
    pos_tf, pos_gene
        Positions of the positive pairs; they are never drawn as negatives.
    n_genes
        Number of genes; negatives are drawn from ``range(n_genes)``.
    strategy
        ``"tf_matched"``: for each TF, ``ratio`` x its number of positives drawn
        uniformly from its non-targets. ``"uniform"``: pairs drawn uniformly over
        the positives' TFs x all genes. ``"hard"``: for each TF, its non-targets
        with the highest absolute co-expression with the TF.
    ratio
        Negatives per positive.
    forbidden
        Pair keys (:func:`pair_keys`) that must never be drawn, e.g. held-out
        test pairs or ``exclude``.
    coexpression
        Function of a TF position returning the TF's correlation with every
        gene (length ``n_genes``); required for ``"hard"``.
    rng
        Random generator; the same generator state gives the same draw.

    Returns
    -------
    TF and gene positions of the negatives. Self-pairs are never drawn. When a
    TF has fewer eligible non-targets than requested, all of them are used.
    """
    if strategy not in NEGATIVE_STRATEGIES:
        raise ValueError(f"negatives={strategy!r} is not known; use one of {NEGATIVE_STRATEGIES}.")
    blocked = np.union1d(pair_keys(pos_tf, pos_gene, n_genes), forbidden if forbidden is not None else [])
    blocked = blocked.astype(np.int64)
    tfs, counts = np.unique(pos_tf, return_counts=True)
    if strategy == "uniform":
        return uniform_non_edges(tfs, n_genes, _n_negatives(len(pos_tf), ratio), blocked, rng)
    out_tf, out_gene = [], []
    for tf, n_pos in zip(tfs, counts):
        candidates = _eligible_genes(tf, n_genes, blocked)
        n_draw = min(_n_negatives(int(n_pos), ratio), len(candidates))
        if n_draw == 0:
            continue
        if strategy == "tf_matched":
            chosen = np.sort(rng.choice(candidates, size=n_draw, replace=False))
        else:
            if coexpression is None:
                raise ValueError("hard negatives need the co-expression of each TF with every gene.")
            strength = np.abs(coexpression(int(tf))[candidates])
            chosen = np.sort(candidates[np.argsort(-strength, kind="stable")[:n_draw]])
        out_tf.append(np.full(n_draw, tf, dtype=np.int64))
        out_gene.append(chosen)
    if not out_tf:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_tf), np.concatenate(out_gene)


def _eligible_genes(tf: int, n_genes: int, blocked: np.ndarray) -> np.ndarray:
    """Genes that may pair with ``tf`` as a negative: not blocked, not the TF itself."""
    lo, hi = np.searchsorted(blocked, [tf * n_genes, (tf + 1) * n_genes])
    taken = blocked[lo:hi] - tf * n_genes
    mask = np.ones(n_genes, dtype=bool)
    mask[taken] = False
    mask[tf] = False
    return np.flatnonzero(mask)


def uniform_non_edges(
    tfs: np.ndarray, n_genes: int, n_draw: int, blocked: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n_draw`` distinct pairs, TF uniform over ``tfs`` then gene uniform, avoiding ``blocked`` keys and self-pairs.

    Fewer are returned when fewer are free. Pairs come in draw order, so the result
    depends only on the generator's state (the same seed gives the same pairs).
    Shared by :func:`sample_negatives` and the benchmark splits.
    """
    blocked_tf = blocked // n_genes
    # blocked self-pairs are not among the n_genes - 1 candidates of their TF: do not subtract them twice
    n_free = len(tfs) * (n_genes - 1) - (np.isin(blocked_tf, tfs) & (blocked_tf != blocked % n_genes)).sum()
    n_draw = int(min(n_draw, max(n_free, 0)))
    chosen = np.empty(0, dtype=np.int64)
    while len(chosen) < n_draw:
        batch = 2 * (n_draw - len(chosen)) + 16
        keys = pair_keys(rng.choice(tfs, size=batch), rng.integers(0, n_genes, size=batch), n_genes)
        keys = keys[(keys // n_genes != keys % n_genes) & ~np.isin(keys, blocked)]
        # keep first occurrences in draw order so the result depends only on the rng state
        keys = np.concatenate([chosen, keys])
        _, first = np.unique(keys, return_index=True)
        chosen = keys[np.sort(first)][:n_draw]
    return chosen // n_genes, chosen % n_genes
