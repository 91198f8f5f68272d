"""grnlink: supervised gene-regulatory-network link prediction on AnnData."""

from importlib.metadata import PackageNotFoundError, version

from . import bm, ds, models, pl, pp, tl
from ._validation import InputError

try:
    __version__ = version("grnlink")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = ["InputError", "bm", "ds", "models", "pl", "pp", "tl", "__version__"]
