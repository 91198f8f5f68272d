"""Leak-free train/validation/test splits of a ground-truth network, one per published protocol.

A split returns labelled pair tables (``source``, ``target``, ``label``).
:func:`grnlink.tl.grn_fit` takes them as ``prior=split.prior``,
``negatives=split.negatives``, ``validation=split.val`` and
``exclude=split.exclude``: the test pairs (and, for cold start, every other
pair of a held-out gene) never reach training, neither as positives nor as
negatives, and the validation pairs only drive early stopping.

Pairs are handled as integer keys ``tf * n_genes + gene`` (see
:mod:`grnlink._pairs`), so disjointness is a set operation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._pairs import pair_keys, uniform_non_edges
from .._validation import (
    FRACTION,
    POSITIVE_NUMBER,
    SEED,
    GeneIndex,
    InputError,
    check_args,
    check_edge_table,
    check_tfs,
    optional,
)

#: the split protocols of :func:`split` (``protocol=``)
PROTOCOLS = ("genelink", "tf_matched", "random", "cold_start")
#: the held-out sides of ``split(..., protocol="cold_start", cold_start=...)``
COLD_START_SIDES = ("tf", "target")
_COLUMNS = ["source", "target", "label"]


@dataclass(frozen=True)
class Split:
    """Labelled pairs of one split: ``source``, ``target``, ``label`` (1 = edge, 0 = non-edge).

    ``train`` holds the training positives and the protocol's training
    negatives, ``val`` the validation pairs (early stopping only), ``test``
    the scored pairs. ``withheld`` lists pairs kept out of training without
    being scored (cold start: the held-out genes' other pairs). Made by
    :func:`split`; :meth:`fit_kwargs` gives the :func:`grnlink.tl.grn_fit`
    arguments that train on it.

    Attributes
    ----------
    train, val, test
        DataFrames with ``source``, ``target`` and ``label`` (int64, 1 = edge).
    protocol
        The protocol that made the split (one of :data:`PROTOCOLS`).
    seed
        The seed it was drawn with.
    withheld
        DataFrame (``source``, ``target``) of pairs kept out of training, not scored.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> genes = [f"G{i}" for i in range(12)]
    >>> truth = pd.DataFrame({"source": ["G0"] * 6 + ["G1"] * 6, "target": genes[2:8] + genes[4:10]})
    >>> s = gl.bm.split(truth, genes, seed=0)
    >>> s.sizes()
    {'train_pos': 7, 'train_neg': 5, 'val_pos': 1, 'val_neg': 1, 'test_pos': 4, 'test_neg': 4}
    >>> len(s.prior), len(s.negatives), len(s.exclude), sorted(s.fit_kwargs())
    (7, 5, 10, ['exclude', 'negatives', 'validation'])
    """

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    protocol: str
    seed: int
    withheld: pd.DataFrame

    @property
    def prior(self) -> pd.DataFrame:
        """Training positives, the prior to fit on."""
        return _pairs_of(self.train, 1)

    @property
    def negatives(self) -> pd.DataFrame:
        """Training negatives, for ``grn_fit(negatives=...)``."""
        return _pairs_of(self.train, 0)

    @property
    def exclude(self) -> pd.DataFrame:
        """Every pair to keep out of training: test, validation and withheld pairs."""
        frames = [self.test, self.val, self.withheld]
        return pd.concat([f[["source", "target"]] for f in frames], ignore_index=True)

    def fit_kwargs(self) -> dict[str, pd.DataFrame]:
        """The :func:`grnlink.tl.grn_fit` arguments that train on this split and nothing else."""
        kwargs = {"exclude": self.exclude, "negatives": self.negatives}
        if len(self.val):
            kwargs["validation"] = self.val
        return kwargs

    def sizes(self) -> dict[str, int]:
        """Number of positive and negative pairs per part (``train_pos``, ``train_neg``, ...)."""
        out = {}
        for part in ("train", "val", "test"):
            labels = getattr(self, part)["label"].to_numpy()
            out[f"{part}_pos"], out[f"{part}_neg"] = int((labels == 1).sum()), int((labels == 0).sum())
        return out


def _pairs_of(table: pd.DataFrame, label: int) -> pd.DataFrame:
    return table.loc[table["label"] == label, ["source", "target"]].reset_index(drop=True)


@dataclass(frozen=True)
class _Universe:
    """Gene names, candidate TFs and the true edges as positions and keys."""

    genes: np.ndarray
    tfs: np.ndarray
    edges: np.ndarray  # (n, 2) unique (tf, target) positions, sorted

    @property
    def n_genes(self) -> int:
        return len(self.genes)

    @property
    def edge_keys(self) -> np.ndarray:
        return pair_keys(self.edges[:, 0], self.edges[:, 1], self.n_genes)

    def targets_of(self, tf: int) -> np.ndarray:
        return self.edges[self.edges[:, 0] == tf, 1]

    def non_targets_of(self, tf: int) -> np.ndarray:
        """Every gene but ``tf`` itself and its true targets."""
        return np.setdiff1d(np.delete(np.arange(self.n_genes), tf), self.targets_of(tf))

    def frame(self, keys: np.ndarray, label: int) -> pd.DataFrame:
        keys = np.asarray(keys, dtype=np.int64)
        return pd.DataFrame(
            {
                "source": self.genes[keys // self.n_genes],
                "target": self.genes[keys % self.n_genes],
                "label": np.full(len(keys), label, dtype=np.int64),
            }
        )


def split(
    truth: pd.DataFrame,
    genes: Sequence[str],
    *,
    protocol: str = "tf_matched",
    seed: int = 0,
    tfs: Sequence[str] | None = None,
    negative_ratio: float = 1.0,
    test_fraction: float | None = None,
    val_fraction: float | None = None,
    cold_start: str = "tf",
) -> Split:
    """Split a ground-truth network into training, validation and test pairs.

    Parameters
    ----------
    truth
        Ground-truth edges, columns ``source`` (TF) and ``target``.
    genes
        Candidate target genes (usually ``adata.var_names``). Truth edges whose
        genes are not among them, and self-loops, are dropped.
    protocol
        ``"genelink"``
            The published BEELINE protocol of GENELink (Chen and Liu 2022),
            which scRegNet and scTransNet follow. Per TF with targets: 2/3 of
            its targets to training (a TF with one target goes to training or
            test by a coin flip; with two, one each), 1/5 of those to
            validation; one random non-target of the same TF per training and
            per validation positive (``negative_ratio`` per positive). Test
            negatives are drawn uniformly over all ``tfs`` x ``genes``
            non-edges, as many as make the test set's share of positives equal
            the network density (edges / (TFs with targets x distinct
            targets)). **What it rewards**: test negatives mostly belong to
            TFs with few or no known targets while test positives belong to
            TFs with many, so knowing a TF's number of training edges ranks
            test pairs well without any biology; the degree control scores
            high here. Read it beside ``tf_matched``.
        ``"tf_matched"`` (default)
            Per TF of ``truth``: ``test_fraction`` (1/3) of its targets and of
            its non-targets (every other gene) to test, the rest to training
            (paper 003's per-TF split), so every test TF is ranked against its
            own non-targets and TF degree carries no information. A random
            ``val_fraction`` (0.1) of the training positives validates; training
            and validation negatives are ``negative_ratio`` random training
            non-targets of the same TF per positive.
        ``"random"``
            Paper 000: the true edges are shuffled and split 70/15/15 into
            training, validation and test (``test_fraction`` and
            ``val_fraction`` default to 0.15); each part gets non-edges drawn
            uniformly over the truth's TFs x ``genes`` (one per positive for
            validation and test, ``negative_ratio`` per positive for training).
        ``"cold_start"``
            Paper 001's unseen entities. ``cold_start="tf"``: ``test_fraction``
            (1/3) of the truth's TFs are held out; their pairs with every gene
            are the test set, and pairs in which they are the target are
            withheld, so a test TF never appears in training.
            ``cold_start="target"``: ``test_fraction`` of the non-TF genes are
            held out; every truth TF's pairs with them are the test set, so a
            test target never appears in training. The remaining pairs are
            split into validation and training as ``tf_matched`` does.
    seed
        Seed of every random draw; the same seed gives the same split.
    tfs
        Candidate regulators for ``genelink``'s test negatives (e.g. the TFs of
        BEELINE's ``TF.csv``, ``adata.var_names[adata.var["is_tf"]]``);
        default: the truth's TFs. Other protocols use the truth's TFs.
    negative_ratio
        Training (and validation) negatives per positive: 1, 5, 10, 50, ... as in
        paper 001's imbalance study. Test sets do not change with it.
    test_fraction, val_fraction
        Override the protocol's shares (see above).
    cold_start
        Held-out side for ``protocol="cold_start"``: ``"tf"`` or ``"target"``.

    Returns
    -------
    :class:`Split` with ``train``, ``val``, ``test`` and ``withheld`` tables;
    ``split.fit_kwargs()`` gives the :func:`grnlink.tl.grn_fit` arguments.

    Examples
    --------
    Two TFs with six targets each among twelve genes: per TF, a third of its
    targets and of its five other genes are test pairs.

    >>> import pandas as pd
    >>> import grnlink as gl
    >>> genes = [f"G{i}" for i in range(12)]
    >>> truth = pd.DataFrame({"source": ["G0"] * 6 + ["G1"] * 6, "target": genes[2:8] + genes[4:10]})
    >>> s = gl.bm.split(truth, genes, protocol="tf_matched", seed=0)
    >>> s.sizes()["test_pos"], s.sizes()["test_neg"], s.test["source"].value_counts().to_dict()
    (4, 4, {'G0': 4, 'G1': 4})
    >>> test_pairs = set(zip(s.test["source"], s.test["target"]))
    >>> test_pairs.isdisjoint(zip(s.train["source"], s.train["target"]))
    True

    Fit on the training pairs only and score the test pairs:

    >>> adata = gl.ds.simulate(n_genes=40, n_tfs=4, n_cells=60, seed=0)
    >>> s = gl.bm.split(adata.uns["true_network"], adata.var_names, protocol="genelink", seed=0)
    >>> gl.tl.grn_fit(adata, s.prior, model="cross_encoder", **s.fit_kwargs(), max_epochs=2)
    >>> scores = gl.tl.grn_predict(adata, pairs=s.test)["score"]
    >>> len(scores) == len(s.test)
    True
    """
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol={protocol!r} is not known; use one of {PROTOCOLS}.")
    if cold_start not in COLD_START_SIDES:
        raise InputError(f"cold_start={cold_start!r} is not known; use 'tf' or 'target'.")
    check_args(
        seed=(seed, SEED),
        negative_ratio=(negative_ratio, POSITIVE_NUMBER),
        test_fraction=(test_fraction, optional(FRACTION)),
        val_fraction=(val_fraction, optional(FRACTION)),
    )
    universe = _universe(truth, genes, check_tfs(tfs))
    rng = np.random.default_rng(seed)
    test_share = _or(test_fraction, 0.15 if protocol == "random" else 1 / 3)
    val_share = _or(val_fraction, 0.15 if protocol == "random" else 0.1)
    if protocol == "genelink":
        parts = _genelink(universe, negative_ratio, rng)
    elif protocol == "tf_matched":
        parts = _tf_matched(universe, test_share, val_share, negative_ratio, rng)
    elif protocol == "random":
        parts = _random(universe, test_share, val_share, negative_ratio, rng)
    else:
        parts = _cold_start(universe, cold_start, test_share, val_share, negative_ratio, rng)
    train, val, test, withheld = parts
    return Split(train, val, test, protocol, seed, withheld)


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _universe(truth: pd.DataFrame, genes: Sequence[str], tfs: Sequence[str] | None) -> _Universe:
    check_edge_table(truth, "truth")
    genes = np.asarray(genes, dtype=str)
    index = GeneIndex(genes)
    src, tgt = index.positions(truth["source"].to_numpy()), index.positions(truth["target"].to_numpy())
    keep = (src >= 0) & (tgt >= 0) & (src != tgt)
    if not keep.any():
        raise InputError("no truth edge has both genes in `genes`; check that symbols match.")
    edges = np.unique(np.stack([src[keep], tgt[keep]], axis=1), axis=0)
    candidates = np.unique(edges[:, 0])
    if tfs is not None:
        listed = index.positions_or_raise(np.asarray(tfs, dtype=object), "tfs")
        candidates = np.union1d(candidates, listed)
    return _Universe(genes, candidates, edges)


def _draw_same_tf(universe: _Universe, pos_keys: np.ndarray, pool: np.ndarray, ratio: float, rng) -> np.ndarray:
    """For every TF, ``ratio`` x its number of positives drawn from its keys in ``pool`` (all when too few)."""
    n = universe.n_genes
    pos_tf = pos_keys // n
    pool_tf = pool // n
    chosen = []
    for tf in np.unique(pos_tf):
        candidates = pool[pool_tf == tf]
        n_draw = min(int(round(ratio * (pos_tf == tf).sum())), len(candidates))
        chosen.append(rng.choice(candidates, size=n_draw, replace=False))
    return np.sort(np.concatenate(chosen)) if chosen else np.empty(0, np.int64)


def _non_edge_keys(universe: _Universe, tfs: np.ndarray) -> np.ndarray:
    """Keys of every (tf, gene) non-edge of the given TFs, self-pairs excluded."""
    grid = _pair_grid(np.asarray(tfs, dtype=np.int64), np.arange(universe.n_genes), universe.n_genes)
    return np.setdiff1d(grid, universe.edge_keys)


def _tables(universe: _Universe, pos: dict, neg: dict, withheld: np.ndarray | None = None):
    """DataFrames (train, val, test, withheld) from per-part positive and negative keys."""
    out = []
    for part in ("train", "val", "test"):
        frames = [universe.frame(np.sort(pos[part]), 1), universe.frame(np.sort(neg[part]), 0)]
        out.append(pd.concat(frames, ignore_index=True))
    extra = np.empty(0, np.int64) if withheld is None else np.sort(withheld)
    out.append(universe.frame(extra, 0)[["source", "target"]])
    return tuple(out)


def _genelink(universe: _Universe, ratio: float, rng):
    n = universe.n_genes
    pos: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for tf in np.unique(universe.edges[:, 0]):
        keys = pair_keys(tf, rng.permutation(universe.targets_of(tf)), n)
        if len(keys) == 1:
            pos["train" if rng.random() <= 0.5 else "test"].append(keys)
            continue
        n_train = 1 if len(keys) == 2 else len(keys) * 2 // 3
        n_val = 0 if len(keys) == 2 else n_train // 5
        pos["val"].append(keys[:n_val])
        pos["train"].append(keys[n_val:n_train])
        pos["test"].append(keys[n_train:])
    pos_keys = {part: _joined(keys) for part, keys in pos.items()}
    # test negatives first, so that the test set does not depend on negative_ratio
    n_test_pos = len(pos_keys["test"])
    n_test_neg = int(n_test_pos // network_density(universe) - n_test_pos)
    test_neg = _uniform_non_edges(universe, universe.tfs, n_test_neg, np.empty(0, np.int64), rng)
    non_edges = np.setdiff1d(_non_edge_keys(universe, np.unique(universe.edges[:, 0])), test_neg)
    train_neg = _draw_same_tf(universe, pos_keys["train"], non_edges, ratio, rng)
    val_neg = _draw_same_tf(universe, pos_keys["val"], np.setdiff1d(non_edges, train_neg), ratio, rng)
    return _tables(universe, pos_keys, {"train": train_neg, "val": val_neg, "test": test_neg})


def network_density(universe: _Universe) -> float:
    """Edges / (TFs with targets x distinct targets): BEELINE's density, the test positive share of ``genelink``."""
    n_tfs, n_targets = len(np.unique(universe.edges[:, 0])), len(np.unique(universe.edges[:, 1]))
    return len(universe.edges) / (n_tfs * n_targets)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.sort(np.concatenate(parts)).astype(np.int64) if parts else np.empty(0, np.int64)


def _uniform_non_edges(universe: _Universe, tfs: np.ndarray, n_draw: int, used: np.ndarray, rng) -> np.ndarray:
    """Sorted keys of ``n_draw`` distinct non-edges, TF uniform over ``tfs`` then gene uniform, avoiding ``used``."""
    n = universe.n_genes
    tf, gene = uniform_non_edges(tfs, n, n_draw, np.union1d(universe.edge_keys, used), rng)
    return np.sort(pair_keys(tf, gene, n))


def _split_keys(keys: np.ndarray, fraction: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``keys``; the first ``round(fraction * len)`` go to the first part."""
    shuffled = rng.permutation(keys)
    n_first = int(round(fraction * len(shuffled)))
    return np.sort(shuffled[:n_first]), np.sort(shuffled[n_first:])


def _per_tf_test(universe: _Universe, tfs: np.ndarray, test_fraction: float, rng) -> dict[tuple[str, int], np.ndarray]:
    """Per TF, ``test_fraction`` of its targets and of its non-targets to test; the rest stays for training."""
    n = universe.n_genes
    parts = {(part, label): [] for part in ("rest", "test") for label in (1, 0)}
    for tf in tfs:
        for label, members in ((1, universe.targets_of(tf)), (0, universe.non_targets_of(tf))):
            test, rest = _split_keys(pair_keys(tf, members, n), test_fraction, rng)
            parts[("test", label)].append(test)
            parts[("rest", label)].append(rest)
    return {key: _joined(value) for key, value in parts.items()}


def _validation_and_training(universe: _Universe, parts: dict, val_fraction: float, ratio: float, rng):
    """A random ``val_fraction`` of the remaining positives validates; each part gets same-TF negatives.

    Validation positives are drawn over all TFs at once (paper 003: 10% of the
    training data), not per TF, so that small TFs keep their few targets for training.
    """
    pos, neg = {"test": parts[("test", 1)]}, {"test": parts[("test", 0)]}
    pos["val"], pos["train"] = _split_keys(parts[("rest", 1)], val_fraction, rng)
    neg["val"] = _draw_same_tf(universe, pos["val"], parts[("rest", 0)], ratio, rng)
    neg["train"] = _draw_same_tf(universe, pos["train"], np.setdiff1d(parts[("rest", 0)], neg["val"]), ratio, rng)
    return pos, neg


def _tf_matched(universe: _Universe, test_fraction: float, val_fraction: float, ratio: float, rng):
    parts = _per_tf_test(universe, np.unique(universe.edges[:, 0]), test_fraction, rng)
    return _tables(universe, *_validation_and_training(universe, parts, val_fraction, ratio, rng))


def _random(universe: _Universe, test_fraction: float, val_fraction: float, ratio: float, rng):
    truth_tfs = np.unique(universe.edges[:, 0])
    pos = {}
    pos["test"], rest = _split_keys(universe.edge_keys, test_fraction, rng)
    pos["val"], pos["train"] = _split_keys(rest, val_fraction / (1 - test_fraction), rng)
    # test and validation negatives are drawn first and one per positive, so they do not depend on ratio
    neg, used = {}, np.empty(0, np.int64)
    for part, part_ratio in (("test", 1.0), ("val", 1.0), ("train", ratio)):
        n_draw = int(round(part_ratio * len(pos[part])))
        neg[part] = _uniform_non_edges(universe, truth_tfs, n_draw, used, rng)
        used = np.union1d(used, neg[part])
    return _tables(universe, pos, neg)


def _cold_start(universe: _Universe, side: str, test_fraction: float, val_fraction: float, ratio: float, rng):
    n = universe.n_genes
    truth_tfs = np.unique(universe.edges[:, 0])
    if side == "tf":
        held_out, seen_tfs = _split_keys(truth_tfs, test_fraction, rng)
        test_keys = _pair_grid(held_out, np.arange(n), n)
        # a held-out TF may also be another TF's target: those pairs are withheld, not scored
        withheld = np.setdiff1d(_pair_grid(truth_tfs, held_out, n), test_keys)
    else:
        non_tfs = np.setdiff1d(np.arange(n), truth_tfs)
        held_out, _ = _split_keys(non_tfs, test_fraction, rng)
        seen_tfs = truth_tfs
        test_keys = _pair_grid(truth_tfs, held_out, n)
        withheld = np.empty(0, np.int64)
    if not len(held_out) or not len(seen_tfs):
        raise InputError(f"test_fraction={test_fraction} leaves no held-out or no training {side}s; change it.")
    held = np.union1d(test_keys, withheld)
    parts = _per_tf_test(universe, seen_tfs, 0.0, rng)
    for label in (1, 0):
        parts[("rest", label)] = np.setdiff1d(parts[("rest", label)], held)
    test_labels = np.isin(test_keys, universe.edge_keys)
    parts[("test", 1)], parts[("test", 0)] = test_keys[test_labels], test_keys[~test_labels]
    pos, neg = _validation_and_training(universe, parts, val_fraction, ratio, rng)
    return _tables(universe, pos, neg, withheld=withheld)


def _pair_grid(tfs: np.ndarray, targets: np.ndarray, n_genes: int) -> np.ndarray:
    """Keys of every (tf, target) pair of the two sets, self-pairs excluded."""
    tf_col, gene_col = np.repeat(tfs, len(targets)), np.tile(targets, len(tfs))
    keep = tf_col != gene_col
    return np.sort(pair_keys(tf_col[keep], gene_col[keep], n_genes))


def relabel(pairs: pd.DataFrame, network: pd.DataFrame, genes: Sequence[str]) -> pd.DataFrame:
    """Label pairs by another network: the pairs whose TF has an edge in ``network``, 1 where ``network`` has the pair.

    Scores the same held-out pairs against a second ground truth, e.g. a prior
    completion checked against ChIP-seq: a pair that is not an edge of
    ``network`` counts as a negative whatever its label in ``pairs`` was. Pairs
    of TFs without any edge of ``network`` (among ``genes``) are left out,
    since nothing is known about their targets there.

    Parameters
    ----------
    pairs
        Pairs ``source``, ``target`` (a ``label`` column, if any, is replaced).
    network
        The other ground truth, ``source`` (TF) and ``target``.
    genes
        Gene names both tables refer to (``adata.var_names``); symbols match
        exactly, then ignoring case. Edges with a gene outside ``genes`` are ignored.

    Returns
    -------
    The kept rows of ``pairs`` (their index unchanged, so ``scores[pairs.index.get_indexer(out.index)]``
    selects their scores) with ``label`` (int64) from ``network``.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> pairs = pd.DataFrame({"source": ["A", "A", "B"], "target": ["C", "D", "C"], "label": [1, 0, 1]})
    >>> gl.bm.relabel(pairs, pd.DataFrame({"source": ["A"], "target": ["D"]}), ["A", "B", "C", "D"])
      source target  label
    0      A      C      0
    1      A      D      1
    """
    check_edge_table(pairs, "pairs")
    check_edge_table(network, "network")
    index = GeneIndex(genes)
    n_genes = len(index.var_names)
    src, tgt = index.positions(network["source"].to_numpy()), index.positions(network["target"].to_numpy())
    known = (src >= 0) & (tgt >= 0)
    edge_keys = pair_keys(src[known], tgt[known], n_genes)
    pair_src, pair_tgt = index.positions(pairs["source"].to_numpy()), index.positions(pairs["target"].to_numpy())
    keep = np.isin(pair_src, src[known]) & (pair_tgt >= 0)
    labels = np.isin(pair_keys(pair_src[keep], pair_tgt[keep], n_genes), edge_keys).astype(np.int64)
    return pairs.loc[keep, ["source", "target"]].assign(label=labels)
