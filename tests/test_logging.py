"""grnlink logs through scanpy's settings: its verbosity, its log file, one handler."""

from __future__ import annotations

import importlib
import io
import logging

import pytest
import scanpy as sc

import grnlink as gl
from grnlink import _settings


@pytest.fixture
def scanpy_logfile():
    """Restores scanpy's log destination and verbosity after the test."""
    old_file, old_verbosity = sc.settings.logfile, sc.settings.verbosity
    yield
    sc.settings.logfile = old_file
    sc.settings.verbosity = old_verbosity


def test_log_lines_go_to_scanpys_logfile(tmp_path, scanpy_logfile):
    sc.settings.verbosity = 2
    sc.settings.logfile = tmp_path / "run.log"
    gl.ds.simulate(n_genes=60, n_tfs=6, n_cells=40, n_celltypes=2)
    _settings.warning("a warning line")
    sc.settings.logfile = None  # closes nothing of ours; scanpy reopens its default stream
    text = (tmp_path / "run.log").read_text()
    assert "simulated 40 cells x 60 genes" in text
    assert "WARNING: a warning line" in text


def test_log_lines_follow_a_logfile_stream_set_later(scanpy_logfile):
    stream = io.StringIO()
    sc.settings.logfile = stream
    sc.settings.verbosity = 1
    _settings.info("hidden at warning verbosity")
    _settings.warning("shown at warning verbosity")
    sc.settings.verbosity = 2
    _settings.info("shown at info verbosity")
    assert stream.getvalue().splitlines() == ["WARNING: shown at warning verbosity", "shown at info verbosity"]


def test_logger_has_one_handler_even_after_reload_and_does_not_propagate(scanpy_logfile):
    importlib.reload(_settings)
    importlib.reload(_settings)
    logger = logging.getLogger("grnlink")
    assert [type(h).__name__ for h in logger.handlers].count("ScanpyLogfileHandler") == 1
    assert logger.propagate is False


def test_a_root_handler_does_not_print_grnlink_lines_twice(scanpy_logfile):
    ours, root_lines = io.StringIO(), []
    sc.settings.logfile = ours
    sc.settings.verbosity = 2

    class Collect(logging.Handler):
        def emit(self, record):
            root_lines.append(record.getMessage())

    root = logging.getLogger()
    handler = Collect()
    root.addHandler(handler)
    try:
        _settings.info("once only")
    finally:
        root.removeHandler(handler)
    assert ours.getvalue() == "once only\n"
    assert root_lines == []


def test_progress_bars_show_at_scanpys_default_verbosity_and_hide_at_zero(scanpy_logfile):
    sc.settings.verbosity = 1  # scanpy's default: warnings
    assert not _settings.progress_disabled()
    sc.settings.verbosity = 0
    assert _settings.progress_disabled()
