"""Link predictors: one module per model, one registry, one shared trainer.

Every public module in this package is imported here, which registers its
predictor: adding a model means adding one file.
"""

import importlib
import pkgutil

from ._base import FEATURE_GROUPS, LinkPredictor
from ._matching import parameter_counts
from ._neural import NeuralPredictor, training_graph
from ._registry import MODELS, available_models, get_model_class, register
from ._trainer import train_module

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")

from .cross_encoder import CrossEncoder  # noqa: E402
from .degree_adjusted import DegreeAdjusted  # noqa: E402
from .dual_encoder import DualEncoder  # noqa: E402
from .genelink import GENELink  # noqa: E402
from .genie3 import GENIE3  # noqa: E402
from .gnt import GNT  # noqa: E402
from .pcc import PCC  # noqa: E402
from .scregnet import ScRegNet  # noqa: E402
from .sctransnet import ScTransNet  # noqa: E402
from .stack import Stack  # noqa: E402
from .two_tower import TwoTower  # noqa: E402

__all__ = [
    "FEATURE_GROUPS",
    "MODELS",
    "CrossEncoder",
    "DegreeAdjusted",
    "DualEncoder",
    "GENELink",
    "GENIE3",
    "GNT",
    "LinkPredictor",
    "NeuralPredictor",
    "PCC",
    "ScRegNet",
    "ScTransNet",
    "Stack",
    "TwoTower",
    "available_models",
    "get_model_class",
    "parameter_counts",
    "register",
    "train_module",
    "training_graph",
]
