"""Plotting: ROC and precision-recall curves, a TF's predicted targets, the signed regulons of several TFs,
training curves, score histograms, the reliability of the calibrated probabilities.

One private module per plot; this package re-exports the public names. Every
plot follows scanpy: ``ax=`` draws into given Axes, ``show``/``save`` as in
``scanpy.pl``, and the Axes is returned when the figure is not shown. No plot
modifies the AnnData.
"""

from ._calibration import calibration
from ._curves import pr_curve, roc_curve
from ._network import network
from ._regulon import regulon
from ._scores import scores
from ._training import training

__all__ = ["calibration", "network", "pr_curve", "regulon", "roc_curve", "scores", "training"]
