"""Sphinx configuration for the grnlink documentation.

Build (offline, warnings as errors) from the repository root::

    sphinx-build -W -b html docs docs/_build/html

Notebooks live in ``../tutorials`` and are committed executed; they are copied
into ``docs/tutorials/`` (gitignored) when this file is read, because Sphinx
only reads files under its source directory. They are never re-executed here.
"""

from __future__ import annotations

import logging
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))  # the source tree wins over an installed copy

import grnlink  # noqa: E402


def copy_tutorials(src: Path = ROOT / "tutorials", dst: Path = HERE / "tutorials") -> None:
    """Mirror ``tutorials/*.ipynb`` into ``docs/tutorials/`` (stale copies are removed)."""
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir()
    for notebook in sorted(src.glob("*.ipynb")):
        shutil.copy2(notebook, dst / notebook.name)


copy_tutorials()

# -- project -----------------------------------------------------------------

project = "grnlink"
author = "grnlink developers"
copyright = "grnlink developers"
release = grnlink.__version__
version = release

# -- general -----------------------------------------------------------------

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinx_autodoc_typehints",
    "sphinxcontrib.bibtex",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# autodoc / autosummary / napoleon
autosummary_generate = True  # stubs go to docs/generated/ (gitignored)
autodoc_member_order = "bysource"
# sphinx-autodoc-typehints writes the annotations into the parameter and return descriptions
typehints_document_rtype = True
always_use_bars_union = True
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

# Links into the documentation of the projects grnlink builds on.
intersphinx_mapping = {
    "anndata": ("https://anndata.readthedocs.io/en/stable/", None),
    "scanpy": ("https://scanpy.readthedocs.io/en/stable/", None),
    "decoupler": ("https://decoupler.readthedocs.io/en/latest/", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "pandas": ("https://pandas.pydata.org/docs/", None),
    "torch": ("https://docs.pytorch.org/docs/stable/", None),
    "torch_geometric": ("https://pytorch-geometric.readthedocs.io/en/latest/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
    "python": ("https://docs.python.org/3/", None),
}
intersphinx_timeout = 10

# Bibliography (sphinxcontrib-bibtex): cite with {cite:p}`key` in Markdown
bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# MyST and myst-nb: notebooks are committed executed and rendered as they are.
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True

# -- HTML --------------------------------------------------------------------

html_theme = "furo" if find_spec("furo") is not None else "alabaster"
html_title = f"grnlink {release}"
html_static_path: list[str] = []


class _OfflineInventories(logging.Filter):
    """An inventory that cannot be downloaded (offline build) is reported as information, not a warning.

    ``sphinx-build -W`` must pass without network access; the links into the
    other projects' documentation are then plain text. Every other warning
    still fails the build.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and "failed to reach any of the inventories" in str(record.msg):
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def setup(app) -> None:
    logging.getLogger("sphinx.sphinx.ext.intersphinx").addFilter(_OfflineInventories())
