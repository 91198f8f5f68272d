"""Parameter matching of the paper-001 models (``dual_encoder`` vs ``cross_encoder``).

Paper 001 compares the two architectures at the same number of trainable
parameters (5.58M each), so that a gap in accuracy cannot be a gap in
capacity. A model's count depends on the data as well as on its options: the
identity embeddings grow with the number of genes and the first layer with
the feature width. Matching therefore happens when the network is built,
from the inputs it is built on: :func:`match_widths` multiplies every layer
width by one factor, keeping the layer pattern, until the count is within
1% of the target. The result is a pure function of the options, the feature
width and the number of genes, so a model reloaded from ``adata.uns``
rebuilds the same network.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validation import InputError
from ._registry import get_model_class

MATCHED_MODELS = ("dual_encoder", "cross_encoder")
TOLERANCE = 0.01
_SEARCH_STEPS = 60


def n_trainable(module: nn.Module) -> int:
    """Number of trainable parameters of ``module``."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def scale_widths(widths: Sequence[int], factor: float) -> list[int]:
    """Every width times ``factor``, rounded, at least 1."""
    return [max(1, int(round(w * factor))) for w in widths]


def count_parameters(network: Callable[[list[int]], nn.Module], widths: list[int]) -> int:
    """Trainable parameters of ``network(widths)``, built without memory, weights or a random draw."""
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        return n_trainable(network(widths))


def match_widths(
    widths: Sequence[int],
    n_params: int | None,
    network: Callable[[list[int]], nn.Module],
    *,
    model: str = "model",
) -> list[int]:
    """Widths, scaled by one common factor, that give ``network`` about ``n_params`` trainable parameters.

    Parameters
    ----------
    widths
        The configured layer widths (e.g. ``[d, *hidden]``).
    n_params
        Target count; ``None`` returns ``widths`` unchanged.
    network
        Builds the network for a list of widths (in the order of ``widths``).
    model
        Model name for error messages.

    Returns
    -------
    The scaled widths whose count is within 1% of ``n_params``.

    Raises
    ------
    InputError
        When no common factor reaches the target within 1% (the fixed part,
        e.g. identity embeddings, is already larger, or the target is too
        small for the layer pattern).
    """
    widths = [int(w) for w in widths]
    if n_params is None:
        return widths
    target = int(n_params)
    if target < 1:
        raise InputError(f"n_params must be a positive integer or None, got {n_params!r}.")

    counted: dict[tuple[int, ...], int] = {}

    def count(factor: float) -> int:
        scaled = scale_widths(widths, factor)
        if tuple(scaled) not in counted:
            counted[tuple(scaled)] = count_parameters(network, scaled)
        return counted[tuple(scaled)]

    lo, hi = 0.0, 1.0
    while count(hi) < target:
        lo, hi = hi, hi * 2
        if hi > 2**20:
            raise InputError(f"{model}: cannot reach n_params={target} by widening its layers.")
    best = min((lo, hi), key=lambda f: abs(count(f) - target))
    for _ in range(_SEARCH_STEPS):
        mid = (lo + hi) / 2
        n = count(mid)
        if abs(n - target) < abs(count(best) - target):
            best = mid
        if n == target:
            break
        lo, hi = (mid, hi) if n < target else (lo, mid)
    achieved = count(best)
    if abs(achieved - target) > TOLERANCE * target:
        smallest = count(0.0)
        raise InputError(
            f"{model}: n_params={target} cannot be matched within 1% by scaling the layer widths "
            f"(closest {achieved}; the smallest network on these inputs has {smallest}). "
            "Raise n_params, or shrink the fixed part: a smaller entity_dim, fewer entities, fewer feature groups "
            "or expression_pcs."
        )
    return scale_widths(widths, best)


def parameter_counts(features: dict[str, np.ndarray], n_genes: int, **options: Any) -> dict[str, int]:
    """Trainable parameters of ``dual_encoder`` and ``cross_encoder`` (one member each) on the given inputs.

    Parameters
    ----------
    features
        Feature groups (genes x d arrays) as ``grn_fit`` builds them.
    n_genes
        Number of genes (rows of the identity embeddings).
    **options
        Model options; each model receives those it has (e.g. ``n_params``,
        ``entity_dim``; ``interaction`` goes to ``cross_encoder`` only).

    Returns
    -------
    ``{"dual_encoder": int, "cross_encoder": int}``.

    Examples
    --------
    >>> import numpy as np
    >>> from grnlink.models import parameter_counts
    >>> features = {"expression": np.zeros((200, 300), np.float32)}
    >>> counts = parameter_counts(features, 200, n_params=300_000)
    >>> all(abs(n - 300_000) <= 3_000 for n in counts.values())
    True
    """
    classes = {name: get_model_class(name) for name in MATCHED_MODELS}
    unknown = sorted(set(options) - set().union(*(cls.defaults for cls in classes.values())))
    if unknown:
        raise InputError(f"option(s) {unknown} belong to neither {MATCHED_MODELS}; see help() of either model.")
    counts = {}
    for name, cls in classes.items():
        predictor = cls(**{k: v for k, v in options.items() if k in cls.defaults})
        counts[name] = int(predictor.n_parameters(features, n_genes))
    return counts
