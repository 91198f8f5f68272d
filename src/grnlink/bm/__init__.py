"""Benchmarking: leak-free splits, metrics and shortcut controls."""

from ._controls import degree_scores
from ._metrics import evaluate, per_tf_metrics
from ._run import CONTROLS, run, summarise, versus_control
from ._split import PROTOCOLS, Split, split

__all__ = [
    "CONTROLS",
    "PROTOCOLS",
    "Split",
    "degree_scores",
    "evaluate",
    "per_tf_metrics",
    "run",
    "split",
    "summarise",
    "versus_control",
]
