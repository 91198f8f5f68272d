"""Estimated precision at the real base rate: how many of the pairs outside the prior scoring at least s are edges.

A calibrated ``probability`` answers "among pairs like the validation pairs"
(one non-edge per edge). Outside the prior, non-edges outnumber edges by far,
and how many true edges are there at all is unknown: it depends on how much
of the true network the prior holds, its ``prior_coverage`` c. If the prior
holds ``n_prior`` edges, about ``m = n_prior * (1 - c) / c`` true edges are
missing from it, among ``N`` candidate pairs (the prior's TFs x every other
gene, prior edges left out), a base rate ``pi = m / N``.

Two samples the model did not train on describe the scores:

- the **held-out prior edges** (the validation positives): stand-ins for the
  missing true edges, whose score distribution f1 they estimate;
- a **background** of candidate pairs drawn uniformly (prior TFs x genes, not
  in the prior, not trained on): the score distribution of all candidates.

A logistic regression of held-out edges against background on the score (on
the log-odds scale when every score is a probability) gives the density ratio
f1/f0 as ``exp(a x + b)``, and with the base rate the *local* precision
``q(s) = pi f1 / (pi f1 + (1 - pi) f0)``, which rises with the score. The
reported ``precision`` is the *tail* precision, the chance that a pair
scoring at least s is an edge: the mean of ``q`` over the background pairs
scoring at least s, interpolated linearly between background scores and equal
to ``q(s)`` above the highest one (there the tail holds a single pair). It is
strictly increasing in the score whenever the model ranks held-out edges
above the background (``a > 0``), so distinct scores get distinct values and
ranking by it equals ranking by the score. If ``a <= 0`` the model does not
rank held-out edges higher and every pair gets the base rate, with a warning.

The background pairs include the missing true edges themselves, so f0 is
slightly overstated and the precision slightly understated at the base rates
that matter (``pi`` of a few percent). ``benchmarks/precision.py`` checks the
estimate against held-out ChIP-seq edges.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

from .._pairs import pair_keys
from .._validation import InputError, number_in

#: Fraction of the true network the prior is assumed to hold (the reasoning is in grn_fit's docstring).
DEFAULT_PRIOR_COVERAGE = 0.1
PRIOR_COVERAGE = number_in(0, 1, low_open=True, high_open=False)
#: Uniformly drawn candidate pairs scored at fit time (their scores are stored: 160 kB).
BACKGROUND_PAIRS = 20_000
_PROBABILITY_CLIP = 1e-12


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
    ``"raw"``), ``coef`` and ``intercept`` of the density ratio, ``n_prior``,
    ``n_candidates`` and ``prior_coverage``.

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
    x = _transform(both, scale)[:, None]
    y = np.repeat([1, 0], [len(held_out), len(background)])
    sd = float(x.std()) or 1.0
    model = LogisticRegression(C=100.0, class_weight="balanced", max_iter=2000).fit(x / sd, y)
    return {
        "held_out": held_out,
        "background": background,
        "scale": scale,
        "coef": float(model.coef_[0, 0] / sd),
        "intercept": float(model.intercept_[0]),
        "n_prior": int(n_prior),
        "n_candidates": int(n_candidates),
        "prior_coverage": float(prior_coverage),
    }


def _transform(scores: np.ndarray, scale: str) -> np.ndarray:
    if scale == "logit":
        return logit(np.clip(scores, _PROBABILITY_CLIP, 1.0 - _PROBABILITY_CLIP))
    return np.asarray(scores, dtype=np.float64)


def base_rate(estimator: dict[str, Any], prior_coverage: float | None = None) -> float:
    """Share of the candidate pairs that are true edges missing from the prior, under ``prior_coverage``."""
    c = float(estimator["prior_coverage"] if prior_coverage is None else prior_coverage)
    missing = float(estimator["n_prior"]) * (1.0 - c) / c
    return float(np.clip(missing / float(estimator["n_candidates"]), 0.0, 1.0 - 1e-9))


def increases(estimator: dict[str, Any]) -> bool:
    """Whether the model ranks held-out edges above the background (else every pair gets the base rate)."""
    return float(estimator["coef"]) > 0


def local_precision(estimator: dict[str, Any], scores: np.ndarray, prior_coverage: float | None = None) -> np.ndarray:
    """Chance that a candidate pair scoring exactly ``s`` is a true edge (``q(s)`` of the module docstring)."""
    pi = base_rate(estimator, prior_coverage)
    if pi <= 0:
        return np.zeros(len(scores))
    coef = max(float(estimator["coef"]), 0.0)
    intercept = float(estimator["intercept"]) if coef > 0 else 0.0
    x = _transform(np.asarray(scores, dtype=np.float64), str(estimator["scale"]))
    return expit(coef * x + intercept + np.log(pi) - np.log1p(-pi))


def estimated_precision(
    estimator: dict[str, Any], scores: np.ndarray, prior_coverage: float | None = None
) -> np.ndarray:
    """Tail precision of each score: the estimated share of true edges among candidates scoring at least it."""
    scores = np.asarray(scores, dtype=np.float64)
    background = np.asarray(estimator["background"], dtype=np.float64)
    q_background = local_precision(estimator, background, prior_coverage)
    # mean of q over the background pairs at or above each background score (sorted ascending)
    tail_mean = np.cumsum(q_background[::-1])[::-1] / np.arange(len(background), 0, -1)
    inside = np.interp(scores, background, tail_mean)
    above = scores > background[-1]
    if above.any():
        inside[above] = local_precision(estimator, scores[above], prior_coverage)
    return np.clip(inside, 0.0, 1.0)


def check_estimator(estimator: Any, where: str) -> dict[str, Any] | None:
    """The stored estimator, checked (finite numbers, a known scale); ``None`` when absent."""
    if estimator is None:
        return None
    what = f"{where} is damaged: its precision estimate"
    names = ("held_out", "background", "scale", "coef", "intercept", "n_prior", "n_candidates", "prior_coverage")
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
