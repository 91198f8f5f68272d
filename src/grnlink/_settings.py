"""One logger and the run-time settings grnlink borrows from scanpy.

grnlink follows ``scanpy.settings``: ``verbosity`` decides what is logged and
whether progress bars show, ``logfile`` (or ``logpath``) where log lines go,
``n_jobs`` how many threads tree ensembles and data loaders use. Nothing here
is hard-coded per call site.

Messages go through the standard-library logger ``"grnlink"``, which has
exactly one handler of its own: it writes each line to whatever
``scanpy.settings.logfile`` is at that moment (so ``sc.settings.logfile =
"run.log"`` sends grnlink's lines to the same file as scanpy's), formatted as
scanpy formats its own. The logger does not propagate to the root logger, so a
``logging.basicConfig`` in user code does not print every line twice, and
importing (or reloading) grnlink never adds a second handler.
"""

from __future__ import annotations

import logging
import os
from contextlib import ContextDecorator

import scanpy as sc
import torch
from threadpoolctl import threadpool_limits


class ScanpyLogfileHandler(logging.Handler):
    """Writes records to ``scanpy.settings.logfile`` as it is when each record is emitted."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sc.settings.logfile
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


class _ScanpyFormatter(logging.Formatter):
    """``"WARNING: message"`` for warnings and errors, the bare message otherwise (as scanpy prints)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        return f"{record.levelname}: {message}" if record.levelno >= logging.WARNING else message


_logger = logging.getLogger("grnlink")
for _old in [h for h in _logger.handlers if type(h).__name__ == ScanpyLogfileHandler.__name__]:
    _logger.removeHandler(_old)  # a reloaded module replaces its handler instead of adding one
_handler = ScanpyLogfileHandler()
_handler.setFormatter(_ScanpyFormatter())
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
    _logger.warning(msg)


def debug(msg: str) -> None:
    """Log ``msg`` at scanpy's ``debug`` verbosity (4)."""
    _sync_level()
    _logger.debug(msg)


def progress_disabled() -> bool:
    """Progress bars show from scanpy's default verbosity (``warning``, 1) up, and are hidden at ``error`` (0)."""
    return verbosity() < 1


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def n_jobs() -> int:
    """Threads to use: ``scanpy.settings.n_jobs`` (below 1: every usable CPU), at most the usable CPUs."""
    jobs = int(getattr(sc.settings, "n_jobs", 1) or 1)
    return min(jobs, available_cpus()) if jobs >= 1 else available_cpus()


def dask_client():
    """The active ``dask.distributed`` client, or None (none active, or distributed not installed)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


class thread_limit(ContextDecorator):
    """Run torch, BLAS and OpenMP with :func:`n_jobs` threads, restoring the caller's settings afterwards.

    Used as a decorator on every public function that fits or scores. Two
    threads on two cores shared with another busy process made fits 20-50x
    slower (threads wait for each other at every operation), so grnlink never
    uses more threads than scanpy's ``n_jobs`` allows (1 by default).

    Examples
    --------
    >>> import torch
    >>> import scanpy as sc
    >>> from grnlink._settings import thread_limit
    >>> before = torch.get_num_threads()
    >>> sc.settings.n_jobs = 1
    >>> with thread_limit():
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """

    def _recreate_cm(self) -> thread_limit:
        return type(self)()  # a fresh instance per decorated call: nested or concurrent calls keep their own state

    def __enter__(self) -> int:
        n = n_jobs()
        self._numba_threads = _set_numba_threads(n)
        self._torch_threads = torch.get_num_threads()
        torch.set_num_threads(n)
        self._blas = threadpool_limits(limits=n)
        return n

    def __exit__(self, *exc) -> None:
        self._blas.restore_original_limits()
        if self._numba_threads is not None:
            _set_numba_threads(self._numba_threads)
        torch.set_num_threads(self._torch_threads)


def _set_numba_threads(n: int) -> int | None:
    """Cap numba's parallel threads (decoupler's p-value code) at ``n``; the previous cap, None without numba.

    numba's OpenMP layer shares torch's libgomp and sets its thread count at
    every parallel call: left at numba's default (every core), one decoupler
    call inside a fit made every later torch operation use two threads
    despite ``n_jobs=1`` (seen in a genome-scale ``stack`` fit).
    """
    try:
        import numba
    except ImportError:
        return None
    previous = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, numba.config.NUMBA_NUM_THREADS)))
    return previous
