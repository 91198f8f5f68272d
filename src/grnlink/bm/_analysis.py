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

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> s = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    >>> noisy = gl.bm.add_label_noise(s, 0.05, seed=0)
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
    """Mean over ensemble members of the effective rank of the gene representations (paper 001)."""
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
    the input: the unit is removed without retraining. Returns the number of
    units pruned.
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

    Returns
    -------
    The key of the pruned copy.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="cross_encoder", max_epochs=5)
    >>> pruned_key = gl.bm.prune(adata, 0.5)
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
    """Test metrics of the fitted model pruned to each fraction (no retraining); ``adata`` is left as it was."""
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
