import numpy as np
import pytest

import grnlink as gl


def _lines(ax, suffix: str) -> list:
    return [line for line in ax.lines if line.get_label().endswith(suffix)]


def test_training_draws_loss_val_loss_auroc_and_best_epoch_per_member(fitted):
    ax = gl.pl.training(fitted, "grn", show=False)
    summary = fitted.uns["grn"]["training"]
    n_members = summary["loss"].shape[0]
    assert n_members == 2
    loss = _lines(ax, "training loss")
    assert len(loss) == n_members and all(line.get_linestyle() == "-" for line in loss)
    assert len(_lines(ax, "validation loss")) == n_members
    np.testing.assert_allclose(loss[0].get_ydata(), summary["loss"][0])
    best = [line.get_xdata()[0] for line in _lines(ax, "best epoch")]
    np.testing.assert_array_equal(best, np.asarray(summary["best_epoch"]) + 1)
    (twin,) = [other for other in ax.figure.axes if other is not ax]
    assert len(_lines(twin, "validation AUROC")) == n_members
    assert twin.get_ylabel() == "validation AUROC"


def test_training_of_an_unsupervised_model_raises(fitted, truth):
    baseline = fitted.copy()
    gl.tl.grn_fit(baseline, truth, model="pcc", key_added="pcc")
    with pytest.raises(gl.InputError, match="'pcc' model under key 'pcc' has no training curves"):
        gl.pl.training(baseline, "pcc", show=False)


def test_training_without_a_fitted_model_raises(fitted):
    with pytest.raises(gl.InputError, match="grn_fit"):
        gl.pl.training(fitted, "missing", show=False)
