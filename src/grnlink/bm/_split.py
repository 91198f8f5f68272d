"""Leak-free train/test splits of a ground-truth network.

A split returns labelled pair tables. Every test pair, positive or negative,
must be passed to :func:`grnlink.tl.grn_fit` as ``exclude`` (``Split.exclude``
does that) so that it can be drawn neither as a positive nor as a negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import GeneIndex, InputError, check_edge_table

PROTOCOLS = ("tf_matched",)


@dataclass(frozen=True)
class Split:
    """Labelled pairs of one split: ``source``, ``target``, ``label`` (1 = edge)."""

    train: pd.DataFrame
    test: pd.DataFrame
    protocol: str
    seed: int

    @property
    def prior(self) -> pd.DataFrame:
        """Training positives, the prior to fit on."""
        return self.train.loc[self.train["label"] == 1, ["source", "target"]].reset_index(drop=True)

    @property
    def exclude(self) -> pd.DataFrame:
        """Every test pair, to keep out of training entirely."""
        return self.test[["source", "target"]].reset_index(drop=True)


def split(
    truth: pd.DataFrame,
    genes: Sequence[str],
    *,
    protocol: str = "tf_matched",
    seed: int = 0,
    test_fraction: float = 1 / 3,
) -> Split:
    """Split a ground-truth network into training and test pairs.

    Parameters
    ----------
    truth
        Ground-truth edges, columns ``source`` (TF) and ``target``.
    genes
        Candidate target genes (usually ``adata.var_names``). Truth edges whose
        genes are not among them are dropped.
    protocol
        ``"tf_matched"``: for each TF of ``truth``, ``1 - test_fraction`` of its
        targets and ``1 - test_fraction`` of its non-targets (every other gene but
        itself) go to training, the rest to test (the per-TF split of paper 003).
        Each test TF is therefore ranked against its own non-targets, and a score
        that only knows which TFs have many edges gains nothing.
    seed
        Seed of the random assignment.
    test_fraction
        Share of each TF's targets and of its non-targets sent to test.

    Returns
    -------
    :class:`Split` with ``train`` and ``test`` tables (``source``, ``target``,
    ``label``); ``split.prior`` and ``split.exclude`` feed ``gl.tl.grn_fit``.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(seed=0)
    >>> s = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    >>> gl.tl.grn_fit(adata, s.prior, exclude=s.exclude, n_ensemble=1, max_epochs=5)
    """
    if protocol not in PROTOCOLS:
        raise InputError(f"protocol={protocol!r} is not known; use one of {PROTOCOLS}.")
    if not 0 < test_fraction < 1:
        raise InputError(f"test_fraction must be in (0, 1), got {test_fraction!r}.")
    check_edge_table(truth, "truth")
    genes = np.asarray(genes, dtype=str)
    index = GeneIndex(genes)
    src, tgt = index.positions(truth["source"].to_numpy()), index.positions(truth["target"].to_numpy())
    keep = (src >= 0) & (tgt >= 0) & (src != tgt)
    if not keep.any():
        raise InputError("no truth edge has both genes in `genes`; check that symbols match.")
    edges = np.unique(np.stack([src[keep], tgt[keep]], axis=1), axis=0)
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for tf in np.unique(edges[:, 0]):
        targets = edges[edges[:, 0] == tf, 1]
        non_targets = np.setdiff1d(np.delete(np.arange(len(genes)), tf), targets)
        for members, label in ((targets, 1), (non_targets, 0)):
            shuffled = rng.permutation(members)
            n_test = int(round(test_fraction * len(shuffled)))
            test_parts.append(_pairs_frame(tf, np.sort(shuffled[:n_test]), label, genes))
            train_parts.append(_pairs_frame(tf, np.sort(shuffled[n_test:]), label, genes))
    return Split(pd.concat(train_parts, ignore_index=True), pd.concat(test_parts, ignore_index=True), protocol, seed)


def _pairs_frame(tf: int, targets: np.ndarray, label: int, genes: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"source": genes[tf], "target": genes[targets], "label": np.full(len(targets), label)})
