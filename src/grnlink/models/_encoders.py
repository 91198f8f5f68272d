"""What the encoder models share: ``cross_encoder`` and ``dual_encoder`` (paper 001), ``two_tower`` (paper 000).

Each of them encodes a gene in a role (TF or target) from the gene's
features and, for the roles named in ``entities``, a learnable identity
embedding. This module holds

- the rules of the options every encoder model has (:data:`ROLE_SCHEMA`);
- the options of the paper-001 pair (:data:`ENCODER_DEFAULTS`,
  :data:`ENCODER_SCHEMA`, :data:`ENCODER_SEARCH_SPACE`) and
  :class:`MatchedEncoderPredictor`, which builds their networks with the
  widths ``[d, *hidden]`` scaled to ``n_params``
  (:func:`~grnlink.models._matching.match_widths`);
- :func:`check_entities`, the one check of ``entities`` against the inputs;
- :class:`CosineNet`, the cosine forward of ``dual_encoder`` and
  ``two_tower``: each role encoded on its own, L2-normalised, compared by
  the cosine that each model turns into a logit its own way; a TF block is
  scored against every gene with each gene encoded once.

Each model file keeps what its paper specifies: its encoders, its logit, its
own options.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import FRACTION, POSITIVE_INT, POSITIVE_INTS, InputError, optional, subset_of
from ._matching import match_widths
from ._neural import NEURAL_DEFAULTS, NEURAL_SCHEMA, NeuralPredictor
from ._trainer import TRAINER_SEARCH_SPACE

ENTITY_ROLES = ("tf", "gene")

#: options of ``cross_encoder`` and ``dual_encoder``: the same sizes give the two models about the same parameter count
ENCODER_DEFAULTS: dict[str, Any] = {
    **NEURAL_DEFAULTS,
    "weight_decay": 1e-5,
    "entity_dim": 64,
    "d": 128,
    "hidden": (256, 128),
    "dropout": 0.2,
    "entities": ("tf",),
    "n_params": None,
}
#: rules of the options every encoder model has (``two_tower`` included)
ROLE_SCHEMA = {
    "entity_dim": POSITIVE_INT,
    "hidden": POSITIVE_INTS,
    "dropout": FRACTION,
    "entities": subset_of(*ENTITY_ROLES),
}
ENCODER_SCHEMA = {**NEURAL_SCHEMA, **ROLE_SCHEMA, "d": POSITIVE_INT, "n_params": optional(POSITIVE_INT)}
ENCODER_SEARCH_SPACE: dict[str, tuple] = {
    **TRAINER_SEARCH_SPACE,
    "dropout": ("float", 0.0, 0.5),
    "d": ("categorical", [64, 128, 256]),
    "hidden": ("categorical", [(128,), (256, 128), (512, 256)]),
}


def check_entities(entities: tuple[str, ...], n_features: int, model: str) -> None:
    """Raise :class:`~grnlink.InputError` for an unknown role, or for one role's identities without any feature."""
    unknown = set(entities) - set(ENTITY_ROLES)
    if unknown:
        raise InputError(f"entities may hold 'tf' and 'gene', got {sorted(unknown)}")
    if len(entities) < 2 and n_features == 0:
        raise InputError(
            f"with no feature group, {model} needs identity embeddings for both roles: "
            "pass entities=('tf', 'gene') or a feature group."
        )


class MatchedEncoderPredictor(NeuralPredictor):
    """A paper-001 model: its :attr:`network` built from the shared options, widths matched to ``n_params``.

    A subclass sets :attr:`network` (a module class taking ``features``,
    ``n_genes`` and the keywords ``tf_entity``, ``entity_dim``, ``d``,
    ``hidden``, ``dropout``, ``entities``) and passes its own options through
    :meth:`network_options`.
    """

    network: ClassVar[type[nn.Module]]

    def network_options(self) -> dict[str, Any]:
        """Keywords of :attr:`network` beyond the shared ones."""
        return {}

    def build(self, features: torch.Tensor, n_genes: int) -> nn.Module:
        p = self.params

        def network(widths: list[int]) -> nn.Module:
            return self.network(
                features,
                n_genes,
                tf_entity=self.tf_embedding(n_genes, int(p["entity_dim"])) if "tf" in p["entities"] else None,
                entity_dim=int(p["entity_dim"]),
                d=widths[0],
                hidden=widths[1:],
                dropout=float(p["dropout"]),
                entities=tuple(p["entities"]),
                **self.network_options(),
            )

        return network(match_widths([int(p["d"]), *p["hidden"]], p["n_params"], network, model=self.name))


class CosineNet(nn.Module, ABC):
    """A TF encoder and a gene encoder compared by cosine similarity (``dual_encoder``, ``two_tower``).

    A subclass registers ``features`` (genes x d) as a buffer and implements
    :meth:`encode_tf`, :meth:`encode_gene` and :meth:`cosine_logits`.
    """

    features: torch.Tensor

    @abstractmethod
    def encode_tf(self, genes: torch.Tensor) -> torch.Tensor:
        """The genes ``genes`` encoded in the TF role."""

    @abstractmethod
    def encode_gene(self, genes: torch.Tensor) -> torch.Tensor:
        """The genes ``genes`` encoded in the target role."""

    @abstractmethod
    def cosine_logits(self, cosine: torch.Tensor) -> torch.Tensor:
        """The logit of a pair from the cosine of its two encodings."""

    def gene_representations(self) -> torch.Tensor:
        """Every gene through the gene encoder (genes x d)."""
        return self.encode_gene(torch.arange(len(self.features)))

    def forward(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor:
        tf_vec = F.normalize(self.encode_tf(tf), dim=-1)
        gene_vec = F.normalize(self.encode_gene(gene), dim=-1)
        return self.cosine_logits((tf_vec * gene_vec).sum(-1))

    def logit_matrix(self, tf: torch.Tensor) -> torch.Tensor:
        """Logits of the TFs ``tf`` against every gene (``len(tf) x genes``): each gene encoded once."""
        tf_vec = F.normalize(self.encode_tf(tf), dim=-1)
        return self.cosine_logits(tf_vec @ F.normalize(self.gene_representations(), dim=-1).T)
