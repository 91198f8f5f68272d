import numpy as np
import pytest

import grnlink as gl


def test_run_returns_tidy_rows_with_controls_and_leaves_adata_clean(adata, truth, fast):
    uns_before, varp_before = set(adata.uns), set(adata.varp)
    results = gl.bm.run(adata, truth, {"cross_encoder": fast, "pcc": {}}, seeds=[0, 1], groupby="cell_type")
    assert sorted(results["model"].unique()) == ["cross_encoder", "degree", "pcc", "random"]
    assert len(results) == 4 * 2
    assert {"tf_auroc", "tf_auprc", "auroc", "auprc", "fit_s", "peak_mib", "protocol", "seed"} <= set(results)
    assert set(adata.uns) == uns_before and set(adata.varp) == varp_before
    random_rows = results[results["model"] == "random"]
    assert random_rows["tf_auroc"].between(0.3, 0.7).all()


def test_run_repeats_exactly(adata, truth):
    first = gl.bm.run(adata, truth, ["pcc"], seeds=[3])
    second = gl.bm.run(adata, truth, ["pcc"], seeds=[3])
    np.testing.assert_array_equal(first["tf_auroc"], second["tf_auroc"])


def test_summarise_and_versus_control_report_mean_sd_and_wins(adata, truth):
    results = gl.bm.run(adata, truth, ["pcc"], seeds=[0, 1])
    table = gl.bm.summarise(results)
    assert table.set_index("model").loc["pcc", "seeds"] == 2
    assert " ± " in table.set_index("model").loc["pcc", "tf_auroc"]
    comparison = gl.bm.versus_control(results).set_index("model")
    diff = results.set_index(["model", "seed"])["tf_auroc"]
    expected = (diff["pcc"] - diff["degree"]).mean()
    assert float(comparison.loc["pcc", "tf_auroc_diff"].split(" ")[0]) == pytest.approx(expected, abs=1e-3)
