"""Tools: fit (or tune) a link predictor, score pairs, export the network."""

from ._compare import grn_compare
from ._export import to_networkx, write_network
from ._fit import grn_fit
from ._network import grn_network
from ._novel import grn_novel
from ._predict import grn_predict
from ._tune import grn_tune

__all__ = [
    "grn_compare",
    "grn_fit",
    "grn_network",
    "grn_novel",
    "grn_predict",
    "grn_tune",
    "to_networkx",
    "write_network",
]
