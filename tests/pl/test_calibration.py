"""gl.pl.calibration draws a reliability curve per model."""

import numpy as np
import pytest

import grnlink as gl


def test_calibration_plot_draws_one_curve_per_model_and_the_diagonal(fitted):
    ax = gl.pl.calibration(fitted, key=["grn", "held"], n_bins=5, show=False)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "perfectly calibrated"
    assert [label.split(" ")[0] for label in labels[1:]] == ["grn", "held"]
    assert all("Brier" in label for label in labels[1:])


def test_calibration_plot_points_are_bin_means_of_the_stored_pairs(fitted):
    from sklearn.calibration import calibration_curve

    from grnlink.tl._calibration import calibrated

    ax = gl.pl.calibration(fitted, n_bins=4, strategy="quantile", show=False)
    cal = fitted.uns["grn"]["calibration"]
    share, mean_prob = calibration_curve(cal["labels"], calibrated(cal, cal["scores"]), n_bins=4, strategy="quantile")
    x, y = ax.get_lines()[1].get_data()
    np.testing.assert_allclose(x, mean_prob)
    np.testing.assert_allclose(y, share)


def test_calibration_plot_scores_given_labelled_pairs(fitted, split):
    ax = gl.pl.calibration(fitted, key="held", pairs=split.val, n_bins=3, show=False)
    assert f"n={len(split.val):,}" in ax.get_lines()[1].get_label()


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"n_bins": 1}, "n_bins"), ({"strategy": "equal"}, "strategy"), ({"key": []}, "empty")]
)
def test_calibration_plot_rejects_bad_arguments(fitted, kwargs, match):
    with pytest.raises(gl.InputError, match=match):
        gl.pl.calibration(fitted, show=False, **kwargs)


def test_calibration_plot_needs_labelled_pairs_of_both_classes(fitted, split):
    with pytest.raises(gl.InputError, match="label"):
        gl.pl.calibration(fitted, pairs=split.val[["source", "target"]], show=False)
    with pytest.raises(gl.InputError, match="both"):
        gl.pl.calibration(fitted, pairs=split.val[split.val["label"] == 1], show=False)
