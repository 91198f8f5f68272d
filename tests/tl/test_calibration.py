"""Calibrated probabilities: fitted on the validation pairs, stored in uns, one scale for every model."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pytest

import grnlink as gl
from grnlink.tl._calibration import calibrated, fit_calibration


def test_predict_probability_is_the_stored_calibration_of_the_score(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="two_tower", groupby="cell_type", **fast)
    cal = adata.uns["grn"]["calibration"]
    training = adata.uns["grn"]["training"]
    assert cal["method"] == "platt" and cal["on"] == "validation"
    assert len(cal["scores"]) == training["n_val_pos"] + training["n_val_neg"]
    assert int(cal["labels"].sum()) == training["n_val_pos"]
    edges = gl.tl.grn_predict(adata)
    np.testing.assert_allclose(edges["probability"], calibrated(cal, edges["score"].to_numpy()))
    assert edges["probability"].between(0, 1, inclusive="neither").all()
    # Platt keeps the order of the raw scores
    order = np.argsort(edges["score"].to_numpy(), kind="stable")
    assert np.all(np.diff(edges["probability"].to_numpy()[order]) >= 0)


@pytest.mark.parametrize("model", ["gnt", "pcc"])
def test_probabilities_of_models_with_different_score_scales_match_the_validation_edge_share(adata, truth, model):
    options = {"max_epochs": 4} if model == "gnt" else {}
    gl.tl.grn_fit(adata, truth, model=model, **options)
    cal = adata.uns["grn"]["calibration"]
    probs = calibrated(cal, cal["scores"])
    n_pos, n = int(cal["labels"].sum()), len(cal["labels"])
    # a logistic fit with an intercept reproduces the mean of its (Platt-smoothed) targets
    smoothed = (n_pos * (n_pos + 1) / (n_pos + 2) + (n - n_pos) / (n - n_pos + 2)) / n
    assert probs.mean() == pytest.approx(smoothed, abs=1e-4)
    assert probs.mean() == pytest.approx(0.5, abs=0.02)  # one negative per validation edge


def test_isotonic_calibration_is_monotone_and_within_zero_and_one(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc", calibration="isotonic")
    cal = adata.uns["grn"]["calibration"]
    assert cal["method"] == "isotonic"
    grid = np.linspace(cal["scores"].min() - 1, cal["scores"].max() + 1, 200)
    probs = calibrated(cal, grid)
    assert np.all(np.diff(probs) >= 0) and probs.min() >= 0 and probs.max() <= 1


def test_platt_separates_better_scores_on_clear_data():
    scores = np.r_[np.linspace(-2, 0.5, 50), np.linspace(-0.5, 2, 50)]
    labels = np.r_[np.zeros(50), np.ones(50)]
    cal = fit_calibration(scores, labels, on="validation")
    assert cal["coef"] > 0
    assert calibrated(cal, np.array([2.0]))[0] > 0.9 > 0.1 > calibrated(cal, np.array([-2.0]))[0]


def test_probabilities_survive_h5ad_bit_for_bit(adata, truth, fast, tmp_path):
    gl.tl.grn_fit(adata, truth, model="two_tower", groupby="cell_type", **fast)
    before = gl.tl.grn_predict(adata)["probability"].to_numpy()
    adata.write_h5ad(tmp_path / "cal.h5ad")
    after = gl.tl.grn_predict(ad.read_h5ad(tmp_path / "cal.h5ad"))["probability"].to_numpy()
    np.testing.assert_array_equal(before, after)


def test_without_validation_pairs_the_training_pairs_calibrate_with_a_warning(adata, truth, fast, log_lines):
    gl.tl.grn_fit(adata, truth, model="two_tower", val_fraction=0.0, **fast)
    assert adata.uns["grn"]["calibration"]["on"] == "training"
    assert any(line.startswith("WARNING: no validation pairs") for line in log_lines)


def test_unknown_calibration_is_refused_before_any_work(adata, truth):
    with pytest.raises(gl.InputError, match="calibration"):
        gl.tl.grn_fit(adata, truth, calibration="beta")
    assert "grn" not in adata.uns


def test_a_model_stored_without_calibration_predicts_nan_probabilities(adata, truth, as_format_1):
    gl.tl.grn_fit(adata, truth, model="pcc")
    as_format_1(adata.uns["grn"], adata)  # format 1 had no calibration
    edges = gl.tl.grn_predict(adata, top_k=3)
    assert edges["probability"].isna().all() and edges["score"].notna().all()
