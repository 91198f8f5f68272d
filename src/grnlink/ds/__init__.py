"""Datasets: simulated data with a known network and readers for benchmark data."""

from ._beeline import beeline
from ._simulate import simulate

__all__ = ["beeline", "simulate"]
