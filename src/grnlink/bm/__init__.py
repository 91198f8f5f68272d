"""Benchmarking: leak-free splits, metrics and shortcut controls."""

from ._controls import degree_scores
from ._metrics import evaluate, per_tf_metrics
from ._split import PROTOCOLS, Split, split

__all__ = ["PROTOCOLS", "Split", "degree_scores", "evaluate", "per_tf_metrics", "split"]
