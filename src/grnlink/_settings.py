"""One logger and the run-time settings grnlink borrows from scanpy.

grnlink follows ``scanpy.settings``: ``verbosity`` decides what is logged and
whether progress bars show, ``n_jobs`` how many threads tree ensembles and
data loaders use. Nothing here is hard-coded per call site.
"""

from __future__ import annotations

import logging
import os
import sys

import scanpy as sc

_logger = logging.getLogger("grnlink")
if not _logger.handlers:
    _handler = logging.StreamHandler(sys.stderr)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)
    _logger.propagate = False

# scanpy verbosity levels: 0 error, 1 warning, 2 info, 3 hint, 4 debug
_LEVELS = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO, 3: logging.INFO, 4: logging.DEBUG}


def verbosity() -> int:
    """Scanpy's current verbosity as an int (0 error ... 4 debug)."""
    return int(sc.settings.verbosity)


def _sync_level() -> None:
    _logger.setLevel(_LEVELS.get(min(max(verbosity(), 0), 4), logging.INFO))


def info(msg: str) -> None:
    """Log ``msg`` when scanpy's verbosity is ``info`` (2) or higher."""
    _sync_level()
    _logger.info(msg)


def hint(msg: str) -> None:
    """Log ``msg`` when scanpy's verbosity is ``hint`` (3) or higher."""
    if verbosity() >= 3:
        _sync_level()
        _logger.info(msg)


def warning(msg: str) -> None:
    """Log a warning when scanpy's verbosity is ``warning`` (1) or higher."""
    _sync_level()
    _logger.warning("WARNING: " + msg)


def debug(msg: str) -> None:
    """Log ``msg`` at scanpy's ``debug`` verbosity (4)."""
    _sync_level()
    _logger.debug(msg)


def progress_disabled() -> bool:
    """Progress bars show at scanpy verbosity ``info`` (2) and above."""
    return verbosity() < 2


def n_jobs() -> int:
    """Threads to use: ``scanpy.settings.n_jobs``, where values below 1 mean all cores."""
    jobs = int(getattr(sc.settings, "n_jobs", 1) or 1)
    return jobs if jobs >= 1 else (os.cpu_count() or 1)
