"""Link predictors: one module per model, one registry, one shared trainer."""

from . import cross_encoder, pcc, two_tower
from ._base import FEATURE_GROUPS, LinkPredictor
from ._neural import NeuralPredictor
from ._registry import MODELS, available_models, get_model_class, register
from ._trainer import train_module
from .cross_encoder import CrossEncoder
from .pcc import PCC
from .two_tower import TwoTower

__all__ = [
    "FEATURE_GROUPS",
    "MODELS",
    "CrossEncoder",
    "LinkPredictor",
    "NeuralPredictor",
    "PCC",
    "TwoTower",
    "available_models",
    "cross_encoder",
    "get_model_class",
    "pcc",
    "register",
    "train_module",
    "two_tower",
]
