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


def test_run_covers_protocols_label_noise_and_ratios(adata, truth, fast):
    results = gl.bm.run(
        adata,
        truth,
        {"cross_encoder": fast},
        protocols=["genelink", "random", "cold_start"],
        seeds=[0],
        split_options={"negative_ratio": 2},
        label_noise=0.02,
        groupby="cell_type",
    )
    assert list(results["protocol"].unique()) == ["genelink", "random", "cold_start"]
    assert {"f1", "accuracy", "threshold", "epr", "precision_at_k", "auprc_ratio"} <= set(results)
    assert results["f1"].notna().all(), "every protocol has validation pairs for the threshold"
    clean = gl.bm.run(adata, truth, {"cross_encoder": fast}, protocols=["random"], seeds=[0], groupby="cell_type")
    noisy = results[results["protocol"] == "random"]
    assert clean.loc[0, "auroc"] != noisy["auroc"].iloc[0]


def test_run_labels_variants_of_one_model(adata, truth, fast):
    models = {"cross_encoder": fast, "no interaction": {"model": "cross_encoder", "interaction": False, **fast}}
    results = gl.bm.run(adata, truth, models, seeds=[0])
    assert list(results["model"]) == ["cross_encoder", "no interaction", "degree", "random"]
    assert results.loc[0, "auroc"] != results.loc[1, "auroc"]


def test_control_differences_pair_each_model_with_the_control_of_its_seed(adata, truth):
    results = gl.bm.run(adata, truth, ["pcc"], seeds=[0, 1])
    diffs = gl.bm.control_differences(results, metrics=["tf_auroc"])
    values = results.set_index(["model", "seed"])["tf_auroc"]
    assert diffs[["protocol", "model", "seed"]].to_numpy().tolist() == [
        ["tf_matched", "pcc", 0],
        ["tf_matched", "pcc", 1],
    ]
    np.testing.assert_allclose(diffs["tf_auroc"], (values["pcc"] - values["degree"]).to_numpy())


def test_run_also_scores_the_same_fits_against_another_truth(adata, truth):
    other = truth.iloc[::2]
    results = gl.bm.run(adata, truth, ["pcc"], seeds=[0], also_score={"other": other})
    assert results[["model", "truth"]].to_numpy().tolist() == [
        [model, name] for model in ("pcc", "degree", "random") for name in ("held-out", "other")
    ]
    split = gl.bm.split(truth, adata.var_names, seed=0)
    relabelled = gl.bm.relabel(split.test, other, adata.var_names)
    rows = results.set_index(["model", "truth"])
    assert rows.loc[("pcc", "other"), "n_test_pos"] == relabelled["label"].sum()
    assert rows.loc[("pcc", "other"), "n_test_neg"] == (relabelled["label"] == 0).sum()
    degree = gl.bm.evaluate(relabelled, gl.bm.degree_scores(split.prior, relabelled))
    assert rows.loc[("degree", "other"), "tf_auroc"] == pytest.approx(degree["tf_auroc"])
    assert np.isnan(rows.loc[("pcc", "other"), "f1"]) and np.isfinite(rows.loc[("pcc", "held-out"), "f1"])
    plain = gl.bm.run(adata, truth, ["pcc"], seeds=[0])
    assert "truth" not in plain
    np.testing.assert_allclose(plain["tf_auroc"], results.loc[results["truth"] == "held-out", "tf_auroc"])
