"""Preprocessing: gene features (cell-type means, embeddings, scFM runs) and prior networks.

One private module per function; this package re-exports the public names.
"""

from ._celltype_means import celltype_means, group_means
from ._embeddings import gene_embeddings
from ._prior import AlignedPrior, align_prior, coverage_message, get_prior
from ._read_prior import merge_priors, read_prior
from ._scfm import scfm_embed

__all__ = [
    "AlignedPrior",
    "align_prior",
    "celltype_means",
    "coverage_message",
    "gene_embeddings",
    "get_prior",
    "group_means",
    "merge_priors",
    "read_prior",
    "scfm_embed",
]
