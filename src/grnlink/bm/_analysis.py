"""Analyses from the papers: label noise, structured neuron pruning, effective rank of gene representations."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import torch
from anndata import AnnData
from torch import nn

from .._validation import FRACTION, KEY, SEED, InputError, check_args, number_in, optional
from ..models import NeuralPredictor
from ..tl import grn_predict
from ..tl._store import load_fitted
from ._metrics import evaluate
from ._split import Split


def add_label_noise(split: Split, fraction: float, seed: int = 0) -> Split:
    """A copy of ``split`` with ``fraction`` of its training labels flipped (paper 003's robustness test).

    ``round(fraction * len(split.train))`` training pairs drawn at random change
    label: flipped positives become training negatives, flipped negatives
    become prior edges. Validation and test pairs are untouched.

    Parameters
    ----------
    split
        The split to copy (:func:`grnlink.bm.split`); it is not modified.
    fraction
        Share of the training pairs whose label is flipped, in [0, 1].
    seed
        Seed of the draw of the flipped pairs.

    Returns
    -------
    A new :class:`Split` with the flipped training labels and the same
    ``val``, ``test``, ``withheld``, ``protocol`` and ``seed``.

    Examples
    --------
    >>> import pandas as pd
    >>> import grnlink as gl
    >>> genes = [f"G{i}" for i in range(12)]
    >>> truth = pd.DataFrame({"source": ["G0"] * 6 + ["G1"] * 6, "target": genes[2:8] + genes[4:10]})
    >>> s = gl.bm.split(truth, genes, seed=0)
    >>> noisy = gl.bm.add_label_noise(s, 0.25, seed=0)
    >>> int((noisy.train["label"] != s.train["label"]).sum()), len(s.train)
    (3, 12)
    >>> noisy.test.equals(s.test), noisy.val.equals(s.val)
    (True, True)
    """
    check_args(fraction=(fraction, number_in(0, 1, high_open=False)), seed=(seed, SEED))
    train = split.train.copy()
    rng = np.random.default_rng(seed)
    flipped = rng.choice(len(train), size=int(round(fraction * len(train))), replace=False)
    column = train.columns.get_loc("label")
    train.iloc[flipped, column] = 1 - train.iloc[flipped, column]
    return Split(train, split.val, split.test, split.protocol, split.seed, split.withheld)


def effective_rank(matrix: np.ndarray) -> float:
    """Effective rank (Roy and Vetterli 2007): exp of the entropy of the normalised singular values.

    Between 1 (all variance in one direction) and ``min(matrix.shape)`` (all
    singular values equal). Columns are centred first.

    Parameters
    ----------
    matrix
        Rows x dimensions, e.g. genes x representation width.

    Returns
    -------
    The effective rank, a float; 0.0 for a matrix whose centred columns are all zero.

    Examples
    --------
    >>> import numpy as np
    >>> import grnlink as gl
    >>> round(gl.bm.effective_rank(np.outer([1.0, 2.0, 3.0], [1.0, -1.0])), 3)
    1.0
    >>> round(gl.bm.effective_rank(np.eye(4)), 3)  # centring removes one direction
    3.0
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    singular = np.linalg.svd(matrix - matrix.mean(axis=0), compute_uv=False)
    if singular.sum() == 0:
        return 0.0
    p = singular / singular.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def _neural_model(adata: AnnData, key: str) -> NeuralPredictor:
    model = load_fitted(adata, key).model
    if not isinstance(model, NeuralPredictor):
        raise InputError(f"the model under adata.uns[{key!r}] ({model.name}) is not a neural network.")
    return model


@torch.no_grad()
def gene_representations(adata: AnnData, key: str = "grn") -> list[np.ndarray]:
    """Each ensemble member's learned representation of every gene in the target role (genes x d).

    Available for models whose network defines ``gene_representations``:
    ``two_tower`` (gene tower output), ``dual_encoder`` (gene encoder),
    ``cross_encoder`` (shared encoder, target role), ``scregnet`` (shared gene
    MLP over the training graph) and ``sctransnet`` (target channel).

    Parameters
    ----------
    adata
        AnnData holding a fitted neural model; not modified.
    key
        ``adata.uns`` key of the fitted model (``key_added`` of :func:`grnlink.tl.grn_fit`).

    Returns
    -------
    One float64 array of genes x representation width per ensemble member.
    Other models raise :class:`~grnlink.InputError`.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=40, n_tfs=4, n_cells=60, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="cross_encoder", n_ensemble=2, max_epochs=2)
    >>> reps = gl.bm.gene_representations(adata)
    >>> len(reps), reps[0].shape[0] == adata.n_vars
    (2, True)
    """
    model = _neural_model(adata, key)
    # a stored gnt keeps its gene embeddings, not its networks: no members after loading
    if not model.members or not all(hasattr(member, "gene_representations") for member in model.members):
        raise InputError(
            f"{model.name} does not expose gene representations; see gl.bm.gene_representations for the models that do."
        )
    out = []
    for member in model.members:
        member.eval()
        out.append(member.gene_representations().double().numpy())
    return out


def representation_rank(adata: AnnData, key: str = "grn") -> float:
    """Mean over ensemble members of the effective rank of the gene representations (paper 001).

    Parameters
    ----------
    adata
        AnnData holding a fitted neural model (see :func:`gene_representations`); not modified.
    key
        ``adata.uns`` key of the fitted model.

    Returns
    -------
    The mean :func:`effective_rank` of the members' genes x width representations.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=40, n_tfs=4, n_cells=60, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="cross_encoder", n_ensemble=2, max_epochs=2)
    >>> rank = gl.bm.representation_rank(adata)
    >>> 1.0 <= rank <= adata.n_vars
    True
    """
    return float(np.mean([effective_rank(r) for r in gene_representations(adata, key)]))


def _hidden_layers(module: nn.Module) -> list[tuple[nn.Linear, nn.Module | None]]:
    """(linear layer, batch norm right after it or None) for every hidden layer of every ``nn.Sequential``.

    A linear layer is hidden when a later linear layer of the same sequence
    reads its output; the last one of a sequence is an output and is kept.
    """
    hidden = []
    for block in module.modules():
        if not isinstance(block, nn.Sequential):
            continue
        children = list(block.children())
        linear_at = [i for i, child in enumerate(children) if isinstance(child, nn.Linear)]
        for i in linear_at[:-1]:
            follower = children[i + 1] if i + 1 < len(children) else None
            hidden.append((children[i], follower if isinstance(follower, nn.BatchNorm1d) else None))
    return hidden


@torch.no_grad()
def prune_hidden_units(module: nn.Module, fraction: float) -> int:
    """Silence ``fraction`` of each hidden layer's units, those with the smallest incoming weight norm.

    A pruned unit's weights and bias are zeroed, and so are the scale and
    shift of the batch norm that follows it, so its activation is 0 whatever
    the input: the unit is removed without retraining. Hidden layers are the
    linear layers of every ``nn.Sequential`` in ``module`` whose output a
    later linear layer of the same sequence reads; output layers are kept.

    Parameters
    ----------
    module
        A torch module, modified in place.
    fraction
        Share of each hidden layer's units to silence (rounded per layer).

    Returns
    -------
    The number of units pruned, over all layers.

    Examples
    --------
    >>> from torch import nn
    >>> import grnlink as gl
    >>> net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 1))
    >>> gl.bm.prune_hidden_units(net, 0.5)  # 4 of 8 and 3 of 6; the output layer is kept
    7
    >>> int((net[0].weight.abs().sum(dim=1) == 0).sum()), int((net[1].weight == 0).sum())
    (4, 4)
    """
    n_pruned = 0
    for linear, norm in _hidden_layers(module):
        n_cut = int(round(fraction * linear.out_features))
        if n_cut == 0:
            continue
        weakest = torch.argsort(linear.weight.norm(dim=1), stable=True)[:n_cut]
        linear.weight[weakest] = 0.0
        if linear.bias is not None:
            linear.bias[weakest] = 0.0
        if norm is not None:
            norm.weight[weakest] = 0.0
            norm.bias[weakest] = 0.0
        n_pruned += n_cut
    return n_pruned


def prune(adata: AnnData, fraction: float, *, key: str = "grn", key_added: str | None = None) -> str:
    """Store a copy of the fitted model with ``fraction`` of its hidden units pruned, without retraining.

    Structured neuron pruning as in paper 001: in every fully connected
    hidden layer of every ensemble member, the units with the smallest L2 norm
    of incoming weights are removed (see :func:`prune_hidden_units`). The
    pruned copy goes to ``adata.uns[key_added]`` (default
    ``f"{key}_pruned{percent}"``); score it with
    ``gl.tl.grn_predict(adata, key=key_added)``. ``adata.uns[key]`` is left as it was.

    Parameters
    ----------
    adata
        AnnData holding a fitted model with fully connected hidden layers
        (``two_tower``, ``cross_encoder``, ``dual_encoder``, ...).
    fraction
        Share of each hidden layer's units to remove, in [0, 1].
    key
        ``adata.uns`` key of the fitted model.
    key_added
        ``adata.uns`` key of the pruned copy; default ``f"{key}_pruned{percent}"``.

    Returns
    -------
    The key of the pruned copy, written to ``adata.uns`` (the fitted model's
    entry with pruned weights and ``pruned_fraction``).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=40, n_tfs=4, n_cells=60, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="cross_encoder", n_ensemble=2, max_epochs=2)
    >>> pruned_key = gl.bm.prune(adata, 0.5)
    >>> pruned_key, adata.uns[pruned_key]["pruned_fraction"]
    ('grn_pruned50', 0.5)
    >>> edges = gl.tl.grn_predict(adata, key=pruned_key)
    """
    check_args(fraction=(fraction, FRACTION), key_added=(key_added, optional(KEY)))
    model = _neural_model(adata, key)
    if not model.members or not _hidden_layers(model.members[0]):
        raise InputError(f"{model.name} has no fully connected hidden layers to prune.")
    for member in model.members:
        prune_hidden_units(member, fraction)
    key_added = key_added or f"{key}_pruned{int(round(100 * fraction))}"
    entry = copy.copy(adata.uns[key])
    entry["state"] = model.get_state()
    entry["pruned_fraction"] = float(fraction)
    adata.uns[key_added] = entry
    return key_added


def pruning_curve(
    adata: AnnData, test: pd.DataFrame, fractions=(0.0, 0.1, 0.3, 0.5, 0.7, 0.9), *, key: str = "grn"
) -> pd.DataFrame:
    """Test metrics of the fitted model pruned to each fraction (no retraining); ``adata`` is left as it was.

    Each fraction prunes a fresh copy of the fitted model (:func:`prune`),
    scores ``test`` with it and drops the copy again.

    Parameters
    ----------
    adata
        AnnData holding a fitted model with fully connected hidden layers.
    test
        Labelled test pairs (``source``, ``target``, ``label``) of both classes,
        kept out of the fit (e.g. ``split.test`` with ``exclude=split.exclude``).
    fractions
        Shares of hidden units to remove, one row each.
    key
        ``adata.uns`` key of the fitted model.

    Returns
    -------
    DataFrame with ``fraction`` and the metrics of :func:`evaluate`, one row per fraction.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=40, n_tfs=4, n_cells=60, seed=0)
    >>> s = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    >>> gl.tl.grn_fit(adata, s.prior, model="cross_encoder", **s.fit_kwargs(), max_epochs=2)
    >>> curve = gl.bm.pruning_curve(adata, s.test, fractions=(0.0, 0.5))
    >>> curve["fraction"].tolist(), "tf_auroc" in curve, sorted(key for key in adata.uns if "grn" in key)
    ([0.0, 0.5], True, ['grn'])
    """
    rows = []
    for fraction in fractions:
        pruned = prune(adata, fraction, key=key, key_added=f"_{key}_pruning")
        try:
            scores = grn_predict(adata, pairs=test, key=pruned)["score"].to_numpy()
        finally:
            adata.uns.pop(pruned, None)
            if f"{pruned}_scores" in adata.varp:
                del adata.varp[f"{pruned}_scores"]
        rows.append({"fraction": fraction, **evaluate(test, scores)})
    return pd.DataFrame(rows)
