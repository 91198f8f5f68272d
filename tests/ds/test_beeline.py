from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import grnlink.ds._beeline as beeline_module
from grnlink._validation import InputError
from grnlink.ds import beeline

SHARED_BEELINE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "beeline"

GENES = ["TFA", "TFB", "G1", "G2", "G3"]
CELLS = ["LPS_1h_S1", "LPS_1h_S2", "LPS_2h_S1", "LPS_2h_S2", "LPS_10h_S1"]


def _write_folder(folder: Path, *, cells=CELLS, network=None, tf_csv=True, target_csv=True) -> Path:
    """A tiny BEELINE folder in the GENELink layout (genes x cells expression, Gene1/Gene2 network)."""
    folder.mkdir(parents=True, exist_ok=True)
    values = np.arange(len(GENES) * len(cells), dtype=float).reshape(len(GENES), len(cells)) / 10
    pd.DataFrame(values, index=GENES, columns=cells).to_csv(folder / "BL--ExpressionData.csv")
    if network is None:
        network = [("TFA", "G1"), ("TFA", "G2"), ("TFB", "G3"), ("TFB", "TFA")]
    pd.DataFrame(network, columns=["Gene1", "Gene2"]).to_csv(folder / "BL--network.csv", index=False)
    if tf_csv:
        pd.DataFrame({"TF": ["TFA", "TFB"], "index": [0, 1]}).to_csv(folder / "TF.csv")
    if target_csv:
        pd.DataFrame({"Gene": GENES, "index": range(len(GENES))}).to_csv(folder / "Target.csv")
    return folder


@pytest.fixture
def warnings_seen(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(beeline_module, "warning", seen.append)
    return seen


def test_beeline_reads_cells_by_genes_with_true_network(tmp_path):
    adata = beeline(_write_folder(tmp_path / "bl"))
    assert adata.shape == (5, 5)
    assert list(adata.var_names) == GENES and list(adata.obs_names) == CELLS
    assert isinstance(adata.X, np.ndarray) and adata.X.dtype == np.float32
    np.testing.assert_allclose(adata.X[:, 2], [1.0, 1.1, 1.2, 1.3, 1.4], rtol=1e-6)  # gene G1 across cells
    net = adata.uns["true_network"]
    assert list(net.columns) == ["source", "target", "weight"]
    expected = [["TFA", "G1"], ["TFA", "G2"], ["TFB", "G3"], ["TFB", "TFA"]]
    assert net[["source", "target"]].to_numpy().tolist() == expected
    assert (net["weight"] == 1.0).all() and isinstance(net.index, pd.RangeIndex)
    assert adata.var["is_tf"].tolist() == [True, True, False, False, False]


def test_beeline_time_point_comes_from_cell_name_prefix_in_file_order(tmp_path):
    adata = beeline(_write_folder(tmp_path / "bl"))
    time_point = adata.obs["time_point"]
    assert isinstance(time_point.dtype, pd.CategoricalDtype)
    assert list(time_point.cat.categories) == ["LPS_1h", "LPS_2h", "LPS_10h"]
    assert time_point.tolist() == ["LPS_1h", "LPS_1h", "LPS_2h", "LPS_2h", "LPS_10h"]


def test_beeline_has_no_time_point_when_cell_names_do_not_follow_the_pattern(tmp_path):
    adata = beeline(_write_folder(tmp_path / "bl", cells=["c1", "c2", "LPS_1h_S3", "c4", "c5"]))
    assert "time_point" not in adata.obs


def test_beeline_drops_edges_with_genes_missing_from_expression_with_a_warning(tmp_path, warnings_seen):
    folder = _write_folder(tmp_path / "bl", network=[("TFA", "G1"), ("TFA", "NOPE"), ("TFX", "G2"), ("TFA", "G1")])
    adata = beeline(folder)
    assert adata.uns["true_network"][["source", "target"]].to_numpy().tolist() == [["TFA", "G1"]]
    assert adata.uns["beeline"]["n_edges_dropped"] == 2
    assert any("dropped 2 of 4 edges" in w and "NOPE" in w and "TFX" in w for w in warnings_seen)


def test_beeline_without_tf_csv_uses_network_sources_as_tfs(tmp_path):
    adata = beeline(_write_folder(tmp_path / "bl", tf_csv=False, network=[("TFB", "G1")]))
    assert adata.var["is_tf"].tolist() == [False, True, False, False, False]


def test_beeline_marks_network_sources_missing_from_tf_csv_as_tfs(tmp_path, warnings_seen):
    adata = beeline(_write_folder(tmp_path / "bl", network=[("G3", "G1"), ("TFA", "G2")]))
    assert adata.var["is_tf"].tolist() == [True, True, False, False, True]
    assert any("not in TF.csv" in w for w in warnings_seen)


def test_beeline_warns_when_target_csv_names_unknown_genes(tmp_path, warnings_seen):
    folder = _write_folder(tmp_path / "bl")
    pd.DataFrame({"Gene": ["G1", "GHOST"], "index": [2, 9]}).to_csv(folder / "Target.csv")
    beeline(folder)
    assert any("Target.csv" in w and "GHOST" in w for w in warnings_seen)


def test_beeline_missing_folder_raises_with_expected_layout(tmp_path):
    with pytest.raises(InputError, match="does not exist.*BL--ExpressionData.csv"):
        beeline(tmp_path / "absent")


@pytest.mark.parametrize("missing", ["BL--ExpressionData.csv", "BL--network.csv"])
def test_beeline_missing_required_file_is_named(tmp_path, missing):
    folder = _write_folder(tmp_path / "bl")
    (folder / missing).unlink()
    with pytest.raises(InputError, match=f"{missing} is missing"):
        beeline(folder)


def test_beeline_on_a_parent_folder_points_to_the_nested_layout(tmp_path):
    _write_folder(tmp_path / "Non-Specific" / "mDC" / "TFs+500")
    with pytest.raises(InputError, match=r"TFs\+500"):
        beeline(tmp_path / "Non-Specific")


def test_beeline_on_a_file_asks_for_the_folder(tmp_path):
    folder = _write_folder(tmp_path / "bl")
    with pytest.raises(InputError, match="is a file; pass the folder"):
        beeline(folder / "BL--ExpressionData.csv")


def test_beeline_network_without_gene_columns_raises(tmp_path):
    folder = _write_folder(tmp_path / "bl")
    pd.DataFrame({"tf": ["TFA"], "target": ["G1"]}).to_csv(folder / "BL--network.csv", index=False)
    with pytest.raises(InputError, match="Gene1"):
        beeline(folder)


def test_beeline_survives_h5ad(tmp_path):
    adata = beeline(_write_folder(tmp_path / "bl"))
    adata.write_h5ad(tmp_path / "bl.h5ad")
    back = ad.read_h5ad(tmp_path / "bl.h5ad")
    assert list(back.obs["time_point"].cat.categories) == ["LPS_1h", "LPS_2h", "LPS_10h"]
    assert back.uns["true_network"]["target"].tolist() == adata.uns["true_network"]["target"].tolist()
    np.testing.assert_array_equal(back.X, adata.X)


def test_beeline_reads_the_real_mdc_non_specific_folder():
    folder = SHARED_BEELINE / "Non-Specific" / "mDC" / "TFs+500"
    if not folder.is_dir():
        pytest.skip(f"../shared/data/beeline not found: {folder.resolve()} is absent (shared data is optional)")
    adata = beeline(folder)
    assert adata.shape == (383, 821)
    assert len(adata.uns["true_network"]) == 3067
    assert list(adata.obs["time_point"].cat.categories) == ["LPS_1h", "LPS_2h", "LPS_4h", "LPS_6h"]
    assert adata.var["is_tf"].sum() == 321
    assert set(adata.uns["true_network"]["source"]) <= set(adata.var_names[adata.var["is_tf"]])
