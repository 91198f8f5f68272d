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


@pytest.fixture
def infos_seen(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(beeline_module, "info", seen.append)
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


def test_beeline_mdc_time_point_is_also_the_condition_and_the_rule_is_recorded(tmp_path):
    adata = beeline(_write_folder(tmp_path / "bl"))
    assert adata.obs["condition"].tolist() == adata.obs["time_point"].tolist()
    assert list(adata.obs["condition"].cat.categories) == ["LPS_1h", "LPS_2h", "LPS_10h"]
    assert not adata.obs["condition"].cat.ordered
    assert adata.uns["beeline"]["cell_name_rule"] == "mdc_time_point"
    assert adata.uns["beeline"]["condition_key"] == "time_point"


def test_beeline_hhep_stage_is_ordered_by_differentiation_not_by_file_order(tmp_path):
    cells = ["A10_mh2", "B2_de", "C11_ipsc", "A1_he1", "H12_de"]
    adata = beeline(_write_folder(tmp_path / "bl", cells=cells))
    stage = adata.obs["stage"]
    assert stage.cat.ordered
    assert list(stage.cat.categories) == ["ipsc", "de", "he1", "mh2"]  # stages absent from the file are left out
    assert stage.tolist() == ["mh2", "de", "ipsc", "he1", "de"]
    assert adata.obs["condition"].tolist() == stage.tolist()
    assert adata.uns["beeline"]["cell_name_rule"] == "hhep_stage"
    assert adata.uns["beeline"]["condition_key"] == "stage"
    assert "time_point" not in adata.obs and "cell_type" not in adata.obs


def test_beeline_mhsc_cell_type_is_ordered_lt_hsc_hspc_prog(tmp_path):
    cells = ["HSPC_025", "Prog_012", "LT_HSC_001", "HSPC_031", "Prog_002"]
    adata = beeline(_write_folder(tmp_path / "bl", cells=cells))
    cell_type = adata.obs["cell_type"]
    assert cell_type.cat.ordered
    assert list(cell_type.cat.categories) == ["LT_HSC", "HSPC", "Prog"]
    assert cell_type.tolist() == ["HSPC", "Prog", "LT_HSC", "HSPC", "Prog"]
    assert adata.obs["condition"].tolist() == cell_type.tolist()
    assert adata.uns["beeline"]["cell_name_rule"] == "mhsc_cell_type"
    assert adata.uns["beeline"]["condition_key"] == "cell_type"


@pytest.mark.parametrize(
    "cells",
    [
        ["c1", "c2", "LPS_1h_S3", "c4", "c5"],  # one name fits the mDC rule, the others none
        ["A1_de", "A2_de", "A3_xx", "A4_ipsc", "A5_mh1"],  # an unknown hepatocyte stage
        ["HSPC_001", "HSPC_002", "MEP_003", "Prog_004", "Prog_005"],  # an unknown cell type
    ],
)
def test_beeline_unknown_cell_naming_adds_no_condition_and_says_so(tmp_path, infos_seen, cells):
    adata = beeline(_write_folder(tmp_path / "bl", cells=cells))
    assert not {"time_point", "stage", "cell_type", "condition"} & set(adata.obs.columns)
    assert adata.uns["beeline"]["cell_name_rule"] == "" and adata.uns["beeline"]["condition_key"] == ""
    assert any("follow none of the known rules" in line and repr(cells[0]) in line for line in infos_seen)


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


@pytest.mark.parametrize(
    ("cells", "categories"),
    [
        (["B2_de", "A10_mh2", "C11_ipsc", "A1_he1", "H12_de"], ["ipsc", "de", "he1", "mh2"]),
        (["c1", "c2", "c3", "c4", "c5"], None),
    ],
)
def test_beeline_condition_and_rule_survive_h5ad(tmp_path, cells, categories):
    adata = beeline(_write_folder(tmp_path / "bl", cells=cells))
    adata.write_h5ad(tmp_path / "bl.h5ad")
    back = ad.read_h5ad(tmp_path / "bl.h5ad")
    assert back.uns["beeline"] == adata.uns["beeline"]
    condition = back.obs.get("condition")
    assert (condition is None) == (categories is None)
    assert categories is None or (condition.cat.ordered and list(condition.cat.categories) == categories)


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


REAL_LAYOUTS = {
    # cell type: (cells, genes, rule, condition categories in order, cells per category)
    "mDC": (383, 821, "mdc_time_point", ["LPS_1h", "LPS_2h", "LPS_4h", "LPS_6h"], [96, 96, 95, 96]),
    "hHEP": (425, 948, "hhep_stage", ["ipsc", "de", "he1", "he2", "ih1", "mh1", "mh2"], [80, 70, 60, 53, 81, 34, 47]),
    "mHSC-GM": (889, 632, "mhsc_cell_type", ["LT_HSC", "HSPC", "Prog"], [130, 440, 319]),
}
REAL_EDGES = {
    ("Specific", "mDC"): 756,
    ("Non-Specific", "mDC"): 3067,
    ("Specific", "hHEP"): 9939,
    ("Non-Specific", "hHEP"): 4129,
    ("Specific", "mHSC-GM"): 7364,
    ("Non-Specific", "mHSC-GM"): 743,
}


@pytest.mark.parametrize(("network", "cell_type"), list(REAL_EDGES))
def test_beeline_reads_every_real_layout_with_its_condition(network, cell_type):
    folder = SHARED_BEELINE / network / cell_type / "TFs+500"
    if not folder.is_dir():
        pytest.skip(f"../shared/data/beeline not found: {folder.resolve()} is absent (shared data is optional)")
    n_cells, n_genes, rule, categories, counts = REAL_LAYOUTS[cell_type]
    adata = beeline(folder)
    assert adata.shape == (n_cells, n_genes)
    assert len(adata.uns["true_network"]) == REAL_EDGES[(network, cell_type)]
    assert adata.uns["beeline"]["cell_name_rule"] == rule
    condition = adata.obs["condition"]
    assert list(condition.cat.categories) == categories
    assert condition.value_counts(sort=False).tolist() == counts
    assert condition.tolist() == adata.obs[adata.uns["beeline"]["condition_key"]].tolist()
