"""The committed tutorials run top to bottom with the installed package (no hub, no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each notebook runs for a minute or more

TUTORIALS = Path(__file__).resolve().parents[1] / "tutorials"
SHARED_DATA = TUTORIALS.parents[1] / "shared" / "data"
NEEDS_SHARED_DATA = {"beeline_mdc.ipynb", "beeline_hhep.ipynb"}


def _notebooks() -> list[Path]:
    return sorted(TUTORIALS.glob("*.ipynb"))


def test_there_are_tutorials_to_run():
    assert {p.name for p in _notebooks()} >= {
        "quickstart.ipynb",
        "beeline_mdc.ipynb",
        "beeline_hhep.ipynb",
        "scfm_embeddings.ipynb",
    }


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_tutorial_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="the tutorials run with nbclient: pip install 'grnlink[test]'")
    nbclient = pytest.importorskip("nbclient", reason="the tutorials run with nbclient: pip install 'grnlink[test]'")
    if path.name in NEEDS_SHARED_DATA and not SHARED_DATA.is_dir():
        pytest.skip(f"{path.name} reads BEELINE data and DoRothEA from {SHARED_DATA}, which is absent")
    monkeypatch.setenv("GRNLINK_DATA", str(SHARED_DATA))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
