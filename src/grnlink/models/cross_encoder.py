"""``cross_encoder``: the joint pair encoder of paper 001.

Both genes of a pair pass through one shared input encoder (a learnable
identity embedding concatenated with the gene's features, projected to
``d``); a joint MLP then reads ``[tf, gene, tf * gene]`` and outputs the
pair's logit. ``interaction=False`` drops the element-wise product term, the
paper's ablation. Unlike a dual encoder, TF and gene interact from the first
joint layer on, which the paper found decisive.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .._validation import BOOLEAN
from ._encoders import (
    ENCODER_DEFAULTS,
    ENCODER_SCHEMA,
    ENCODER_SEARCH_SPACE,
    MatchedEncoderPredictor,
    check_entities,
)
from ._neural import mlp
from ._registry import register


class CrossEncoderNet(nn.Module):
    """Shared gene encoder followed by a joint MLP over the concatenated pair."""

    def __init__(
        self,
        features: torch.Tensor,
        n_genes: int,
        *,
        tf_entity: nn.Embedding | None,
        entity_dim: int,
        d: int,
        hidden: list[int],
        dropout: float,
        interaction: bool,
        entities: tuple[str, ...],
    ):
        super().__init__()
        n_features = features.shape[1]
        check_entities(entities, n_features, "cross_encoder")
        self.register_buffer("features", features, persistent=False)
        self.tf_entity = tf_entity
        self.gene_entity = nn.Embedding(n_genes, entity_dim) if "gene" in entities else None
        self.entity_dim = entity_dim if entities else 0
        n_in = self.entity_dim + n_features
        self.encoder = nn.Sequential(nn.Linear(n_in, d), nn.LayerNorm(d), nn.ReLU())
        self.interaction = interaction
        self.joint = mlp([(3 if interaction else 2) * d, *hidden, 1], dropout)

    def encode(self, genes: torch.Tensor, entity: nn.Embedding | None) -> torch.Tensor:
        """Shared encoder over [identity embedding of the role (zeros when absent), features]."""
        parts = [self.features[genes]]
        if self.entity_dim:
            ids = entity(genes) if entity is not None else self.features.new_zeros(len(genes), self.entity_dim)
            parts.insert(0, ids)
        return self.encoder(torch.cat(parts, dim=-1))

    def gene_representations(self) -> torch.Tensor:
        """Every gene encoded in the target role (genes x d)."""
        return self.encode(torch.arange(len(self.features)), self.gene_entity)

    def forward(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor:
        tf_vec, gene_vec = self.encode(tf, self.tf_entity), self.encode(gene, self.gene_entity)
        parts = [tf_vec, gene_vec] + ([tf_vec * gene_vec] if self.interaction else [])
        return self.joint(torch.cat(parts, dim=-1)).squeeze(-1)


@register
class CrossEncoder(MatchedEncoderPredictor):
    """Cross-encoder (paper 001): one joint network on ``[tf, gene, tf * gene]``.

    Options (``gl.tl.grn_fit(..., model="cross_encoder", **options)``):

    ``entity_dim`` (64), ``d`` (128)
        Identity embedding width and shared encoder output width.
    ``hidden`` ((256, 128))
        Widths of the joint MLP's hidden layers (batch norm, ReLU, dropout).
    ``interaction`` (True)
        False drops the element-wise product (paper 001's ablation).
    ``entities`` (("tf",))
        Roles that get a learnable identity embedding: ``"tf"``, ``"gene"``,
        both, or none (features only, inductive). Gene identities let the
        network memorise training targets, which on held-out targets of the same
        TFs hurt on simulated data and did not help on BEELINE (checked with
        ``two_tower``: ``benchmarks/results/design_checks.md``).
    ``dropout`` (0.2), ``lr`` (1e-3), ``weight_decay`` (1e-5), ``batch_size``, ``max_epochs``, ``patience``
        Trainer settings.
    ``n_ensemble`` (1)
        Members trained with different seeds whose probabilities are averaged.
    ``expression_pcs`` (50), ``expression_scaling`` ("component")
        Principal components of per-cell expression used as inputs, and their scale
        (:func:`grnlink.models._neural.expression_components`).
    ``n_params`` (None)
        Target number of trainable parameters per member, for paper 001's
        parameter-matched comparison with ``dual_encoder``: ``d`` and ``hidden``
        are multiplied by one factor until the count is within 1%. ``None``
        uses the widths as given.
    """

    name = "cross_encoder"
    paper = "001: Dual-encoder vs cross-encoder for transductive GRN link prediction"
    defaults = {**ENCODER_DEFAULTS, "interaction": True}
    schema = {**ENCODER_SCHEMA, "interaction": BOOLEAN}
    search_space = {**ENCODER_SEARCH_SPACE}
    network = CrossEncoderNet

    def network_options(self) -> dict[str, Any]:
        return {"interaction": bool(self.params["interaction"])}
