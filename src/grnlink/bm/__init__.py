"""Benchmarking: leak-free splits, metrics, shortcut controls and the papers' analyses."""

from .._metrics import per_tf_metrics
from ._analysis import (
    add_label_noise,
    effective_rank,
    gene_representations,
    prune,
    prune_hidden_units,
    pruning_curve,
    representation_rank,
)
from ._controls import degree_scores, shuffle_expression
from ._metrics import evaluate, f1_threshold, precision_at_k
from ._run import CONTROLS, control_differences, run, summarise, versus_control
from ._split import COLD_START_SIDES, PROTOCOLS, Split, relabel, split

__all__ = [
    "COLD_START_SIDES",
    "CONTROLS",
    "PROTOCOLS",
    "Split",
    "add_label_noise",
    "control_differences",
    "degree_scores",
    "effective_rank",
    "evaluate",
    "f1_threshold",
    "gene_representations",
    "per_tf_metrics",
    "precision_at_k",
    "prune",
    "prune_hidden_units",
    "pruning_curve",
    "relabel",
    "representation_rank",
    "run",
    "shuffle_expression",
    "split",
    "summarise",
    "versus_control",
]
