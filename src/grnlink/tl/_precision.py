"""Estimated precision at the real base rate: how many of the pairs outside the prior scoring at least s are edges.

A calibrated ``probability`` answers "among pairs like the validation pairs"
(one non-edge per edge). Outside the prior, non-edges outnumber edges by far,
and how many true edges there are at all is unknown: it depends on how much
of the true network the prior holds, its ``prior_coverage`` c. If the prior
holds ``n_prior`` edges, about ``m = n_prior * (1 - c) / c`` true edges are
missing from it, among ``N`` candidate pairs (the prior's TFs x every other
gene, prior edges left out).

Of the candidates scoring at least s, ``N * u(s)`` pairs, about ``m * F1(s)``
are true edges, where ``u(s)`` is the share of all candidates and ``F1(s)``
the share of the missing edges scoring at least s. Two samples the model did
not train on estimate them:

- ``u``: a **background** of candidate pairs drawn uniformly (the prior's TFs x
  genes, outside the prior and the training pairs). Between background scores
  ``u`` is interpolated linearly; above the highest it falls exponentially
  with the mean excess of the top background scores (on the log-odds scale
  when every score is a probability);
- ``F1``: the **held-out prior edges** (the validation positives), stand-ins for
  the missing edges. Few of them reach the top scores, so ``F1`` is modelled as
  a power of ``u``, ``F1 = A * u ** b`` (a straight line in log-log, the power
  ROC curve), fitted by least squares to the upper half of the held-out edges
  (at least 10), the part that governs the top of the ranking.

The precision is ``m * F1(s) / (N * u(s)) = (m / N) * A * u(s) ** (b - 1)``,
softly capped below 1. With ``b < 1`` (held-out edges rank above the
background) it rises strictly with the score, so distinct scores get distinct
values and ranking by it equals ranking by the score; with ``b >= 1`` the
model does not rank held-out edges higher and every pair gets the base rate
``m / N``, with a warning at fit time. ``benchmarks/edges.py`` checks the
estimate against held-out ChIP-seq edges (``benchmarks/results/edges.md``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logit

from .._pairs import pair_keys
from .._validation import InputError, number_in

#: Fraction of the true network the prior is assumed to hold (the reasoning is in grn_fit's docstring).
DEFAULT_PRIOR_COVERAGE = 0.1
PRIOR_COVERAGE = number_in(0, 1, low_open=True, high_open=False)
#: Uniformly drawn candidate pairs scored at fit time (their scores are stored: 160 kB).
BACKGROUND_PAIRS = 20_000
_PROBABILITY_CLIP = 1e-12
_TAIL_POINTS = 50  # top background scores whose mean excess sets the exponential tail above the highest
_MIN_TAIL = 1e-6
_MIN_FIT_POINTS = 10  # held-out edges the power law is fitted to, at least
_CAP_SHARPNESS = 4.0  # how sharply the precision bends below 1 (within 1% of the estimate below 0.5)


def background_pairs(
    tf_rows: np.ndarray, n_genes: int, blocked: np.ndarray, n_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n_pairs`` distinct (TF, gene) pairs drawn uniformly from ``tf_rows`` x genes.

    Self-pairs and pairs whose key is in ``blocked`` (prior edges, training
    pairs) are left out. When the candidates number fewer than twice
    ``n_pairs``, every candidate is taken.
    """
    tf_rows = np.unique(np.asarray(tf_rows, dtype=np.int64))
    blocked = np.unique(np.asarray(blocked, dtype=np.int64))
    n_total = len(tf_rows) * n_genes
    if n_total <= 2 * n_pairs:
        tf = np.repeat(tf_rows, n_genes)
        gene = np.tile(np.arange(n_genes), len(tf_rows))
    else:
        draw = rng.choice(n_total, size=min(n_total, 3 * n_pairs), replace=False)
        tf, gene = tf_rows[draw // n_genes], draw % n_genes
    keep = (tf != gene) & ~np.isin(pair_keys(tf, gene, n_genes), blocked)
    tf, gene = tf[keep][:n_pairs], gene[keep][:n_pairs]
    order = np.lexsort((gene, tf))
    return tf[order], gene[order]


def n_candidates(n_tfs: int, n_genes: int, n_prior: int) -> int:
    """Candidate pairs outside the prior: every prior TF against every other gene, less the prior edges."""
    return max(int(n_tfs) * (int(n_genes) - 1) - int(n_prior), 1)


def fit_precision(
    held_out: np.ndarray, background: np.ndarray, *, n_prior: int, n_candidates: int, prior_coverage: float
) -> dict[str, Any]:
    """The precision estimator as plain values for ``adata.uns`` (see the module docstring).

    Parameters
    ----------
    held_out
        Scores of prior edges the model did not train on (at least one).
    background
        Scores of candidate pairs drawn uniformly outside the prior (at least one).
    n_prior
        Prior edges the fit used (the ``n_prior`` of the base rate).
    n_candidates
        Candidate pairs outside the prior (:func:`n_candidates`).
    prior_coverage
        Fraction of the true network the prior is assumed to hold, in (0, 1].

    Returns
    -------
    ``held_out`` and ``background`` (sorted scores), ``scale`` (``"logit"`` or
    ``"raw"``), ``tail`` (the mean excess of the top background scores),
    ``log_a`` and ``b`` of the power law, ``n_prior``, ``n_candidates`` and
    ``prior_coverage``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> est = fit_precision(rng.normal(2, 1, 200), rng.normal(0, 1, 5000), n_prior=500, n_candidates=50_000,
    ...                     prior_coverage=0.5)
    >>> p = estimated_precision(est, np.array([0.0, 2.0, 4.0]))
    >>> bool(0 < p[0] < p[1] < p[2] < 1)
    True
    """
    held_out = np.sort(np.asarray(held_out, dtype=np.float64))
    background = np.sort(np.asarray(background, dtype=np.float64))
    if not len(held_out) or not len(background):
        raise ValueError("the precision estimate needs held-out edges and background pairs")
    both = np.concatenate([held_out, background])
    scale = "logit" if both.min() >= 0.0 and both.max() <= 1.0 else "raw"
    x_background = _transform(background, scale)
    n_top = int(np.clip(len(background) // 10, 1, _TAIL_POINTS))
    top = x_background[-n_top:]
    tail = float(np.mean(top - top[0])) if n_top > 1 else 0.0
    estimator = {
        "held_out": held_out,
        "background": background,
        "scale": scale,
        "tail": tail if tail > 0 else _MIN_TAIL,
        "log_a": 0.0,
        "b": 1.0,
        "n_prior": int(n_prior),
        "n_candidates": int(n_candidates),
        "prior_coverage": float(prior_coverage),
    }
    # the power law F1 = A u^b through the upper half of the held-out edges, best first
    best_first = held_out[::-1]
    n_fit = min(len(best_first), max(_MIN_FIT_POINTS, len(best_first) // 2))
    log_share = np.log(np.arange(1, n_fit + 1) / len(best_first))
    log_u = np.log(background_share(estimator, best_first[:n_fit]))
    if n_fit >= 2 and np.ptp(log_u) > 0:
        b, log_a = np.polyfit(log_u, log_share, 1)
        estimator.update(log_a=float(log_a), b=float(np.clip(b, 0.0, 1.0)))
    return estimator


def _transform(scores: np.ndarray, scale: str) -> np.ndarray:
    if scale == "logit":
        return logit(np.clip(scores, _PROBABILITY_CLIP, 1.0 - _PROBABILITY_CLIP))
    return np.asarray(scores, dtype=np.float64)


def background_share(estimator: dict[str, Any], scores: np.ndarray) -> np.ndarray:
    """``u(s)``: the estimated share of candidate pairs scoring at least each score (strictly decreasing above
    the lowest background score; see the module docstring)."""
    scale = str(estimator["scale"])
    x = _transform(np.asarray(scores, dtype=np.float64), scale)
    values, first = np.unique(_transform(np.asarray(estimator["background"], dtype=np.float64), scale), True)
    share = 1.0 - first / len(estimator["background"])  # fraction at or above each distinct value
    out = np.interp(x, values, share)
    above = x > values[-1]
    out[above] = share[-1] * np.exp(-(x[above] - values[-1]) / float(estimator["tail"]))
    return np.maximum(out, np.finfo(np.float64).tiny)


def base_rate(estimator: dict[str, Any], prior_coverage: float | None = None) -> float:
    """Share of the candidate pairs that are true edges missing from the prior, under ``prior_coverage``."""
    c = float(estimator["prior_coverage"] if prior_coverage is None else prior_coverage)
    missing = float(estimator["n_prior"]) * (1.0 - c) / c
    return float(np.clip(missing / float(estimator["n_candidates"]), 0.0, 1.0))


def increases(estimator: dict[str, Any]) -> bool:
    """Whether the model ranks held-out edges above the background (else every pair gets the base rate)."""
    return float(estimator["b"]) < 1.0


def estimated_precision(
    estimator: dict[str, Any], scores: np.ndarray, prior_coverage: float | None = None
) -> np.ndarray:
    """Tail precision of each score: the estimated share of true edges among candidates scoring at least it."""
    scores = np.asarray(scores, dtype=np.float64)
    pi = base_rate(estimator, prior_coverage)
    if not increases(estimator):
        return np.full(len(scores), pi)
    u = background_share(estimator, scores)
    ratio = pi * np.exp(float(estimator["log_a"]) + (float(estimator["b"]) - 1.0) * np.log(u))
    return ratio / (1.0 + ratio**_CAP_SHARPNESS) ** (1.0 / _CAP_SHARPNESS)  # never 1 below ratios of 1e4


def check_estimator(estimator: Any, where: str) -> dict[str, Any] | None:
    """The stored estimator, checked (finite numbers, a known scale); ``None`` when absent."""
    if estimator is None:
        return None
    what = f"{where} is damaged: its precision estimate"
    names = ("held_out", "background", "scale", "tail", "log_a", "b", "n_prior", "n_candidates", "prior_coverage")
    if not hasattr(estimator, "get") or any(name not in estimator for name in names):
        raise InputError(f"{what} lacks some of {names}. Refit the model.")
    if str(estimator["scale"]) not in ("logit", "raw"):
        raise InputError(f"{what} has scale {estimator['scale']!r}, not 'logit' or 'raw'. Refit the model.")
    for name in names:
        if name == "scale":
            continue
        values = np.asarray(estimator[name])
        if values.dtype.kind not in "biuf" or not np.isfinite(values).all():
            raise InputError(f"{what} holds {name} that are not finite numbers. Refit the model.")
    if not len(np.atleast_1d(estimator["held_out"])) or not len(np.atleast_1d(estimator["background"])):
        raise InputError(f"{what} has no held-out or background scores. Refit the model.")
    entry = dict(estimator)
    entry["scale"] = str(entry["scale"])
    entry["background"] = np.sort(np.asarray(entry["background"], dtype=np.float64).ravel())
    entry["held_out"] = np.sort(np.asarray(entry["held_out"], dtype=np.float64).ravel())
    return entry
