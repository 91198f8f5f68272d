"""``cross_encoder``: the joint pair encoder of paper 001.

Both genes of a pair pass through one shared input encoder (a learnable
identity embedding concatenated with the gene's features, projected to
``d``); a joint MLP then reads ``[tf, gene, tf * gene]`` and outputs the
pair's logit. ``interaction=False`` drops the element-wise product term, the
paper's ablation. Unlike a dual encoder, TF and gene interact from the first
joint layer on, which the paper found decisive.
"""

from __future__ import annotations

import torch
from torch import nn

from ._neural import NEURAL_DEFAULTS, NeuralPredictor, mlp
from ._registry import register


class CrossEncoderNet(nn.Module):
    """Shared gene encoder followed by a joint MLP over the concatenated pair."""

    def __init__(
        self,
        features: torch.Tensor,
        n_genes: int,
        *,
        entity_dim: int,
        d: int,
        hidden: list[int],
        dropout: float,
        interaction: bool,
        use_entity: bool,
    ):
        super().__init__()
        n_features = features.shape[1]
        if not use_entity and n_features == 0:
            raise ValueError("cross_encoder needs entity embeddings or at least one feature group")
        self.register_buffer("features", features, persistent=False)
        self.entity = nn.Embedding(n_genes, entity_dim) if use_entity else None
        n_in = (entity_dim if use_entity else 0) + n_features
        self.encoder = nn.Sequential(nn.Linear(n_in, d), nn.LayerNorm(d), nn.ReLU())
        self.interaction = interaction
        self.joint = mlp([(3 if interaction else 2) * d, *hidden, 1], dropout)

    def encode(self, genes: torch.Tensor) -> torch.Tensor:
        parts = [self.features[genes]]
        if self.entity is not None:
            parts.insert(0, self.entity(genes))
        return self.encoder(torch.cat(parts, dim=-1))

    def forward(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor:
        tf_vec, gene_vec = self.encode(tf), self.encode(gene)
        parts = [tf_vec, gene_vec] + ([tf_vec * gene_vec] if self.interaction else [])
        return self.joint(torch.cat(parts, dim=-1)).squeeze(-1)


@register
class CrossEncoder(NeuralPredictor):
    """Cross-encoder (paper 001): one joint network on ``[tf, gene, tf * gene]``.

    Options (``gl.tl.grn_fit(..., model="cross_encoder", **options)``):

    ``entity_dim`` (64), ``d`` (128)
        Identity embedding width and shared encoder output width.
    ``hidden`` ((256, 128))
        Widths of the joint MLP's hidden layers (batch norm, ReLU, dropout).
    ``interaction`` (True)
        False drops the element-wise product (paper 001's ablation).
    ``use_entity`` (True)
        False drops the identity embeddings (features only).
    ``dropout`` (0.2), ``lr`` (1e-3), ``weight_decay`` (1e-5), ``batch_size``, ``max_epochs``, ``patience``
        Trainer settings.
    ``n_ensemble`` (1)
        Members trained with different seeds whose probabilities are averaged.
    """

    name = "cross_encoder"
    paper = "001: Dual-encoder vs cross-encoder for transductive GRN link prediction"
    defaults = {
        **NEURAL_DEFAULTS,
        "weight_decay": 1e-5,
        "entity_dim": 64,
        "d": 128,
        "hidden": (256, 128),
        "dropout": 0.2,
        "interaction": True,
        "use_entity": True,
    }

    def build(self, features: torch.Tensor, n_genes: int) -> nn.Module:
        p = self.params
        return CrossEncoderNet(
            features,
            n_genes,
            entity_dim=int(p["entity_dim"]),
            d=int(p["d"]),
            hidden=[int(h) for h in p["hidden"]],
            dropout=float(p["dropout"]),
            interaction=bool(p["interaction"]),
            use_entity=bool(p["use_entity"]),
        )
