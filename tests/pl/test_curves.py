import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

import grnlink as gl


def _legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _legend_number(ax, pattern: str) -> float:
    found = [re.search(pattern, text) for text in _legend_texts(ax)]
    return float(next(m for m in found if m).group(1).replace(",", ""))


def _held_out_pairs(adata, test: pd.DataFrame) -> pd.DataFrame:
    """The stored edges of ``held`` that are test pairs, with their test labels, by hand."""
    edges = adata.uns["held"]["edges"].astype({"source": str, "target": str})
    merged = edges.merge(test, on=["source", "target"], how="inner")
    return merged[~merged["in_prior"]]


def test_roc_curve_auroc_in_legend_equals_sklearn_on_held_out_pairs(fitted, split):
    ax = gl.pl.roc_curve(fitted, split.test, key="held", show=False)
    expected = _held_out_pairs(fitted, split.test)
    auroc = roc_auc_score(expected["label"], expected["score"])
    assert _legend_number(ax, r"AUROC ([0-9.]+)") == pytest.approx(auroc, abs=0.005)
    assert _legend_number(ax, r"n=([0-9,]+)") == len(expected)
    curve = ax.lines[0]
    assert np.trapezoid(curve.get_ydata(), curve.get_xdata()) == pytest.approx(auroc)


def test_roc_curve_draws_one_line_per_key_and_a_chance_diagonal(fitted, split):
    ax = gl.pl.roc_curve(fitted, split.test, key=["grn", "held"], include_prior=True, show=False)
    assert len(ax.lines) == 3
    labels = _legend_texts(ax)
    assert labels[0].startswith("grn (AUROC") and labels[1].startswith("held (AUROC") and labels[2] == "chance"
    np.testing.assert_array_equal(ax.lines[2].get_xydata(), [[0, 0], [1, 1]])


def test_pr_curve_scores_given_labelled_pairs_and_draws_the_positive_share(fitted, split):
    ax = gl.pl.pr_curve(fitted, None, key="held", pairs=split.test, show=False)
    scored = gl.tl.grn_predict(fitted.copy(), pairs=split.test, key="held")  # by hand, on a copy
    auprc = average_precision_score(split.test["label"], scored["score"])
    assert _legend_number(ax, r"AUPRC ([0-9.]+)") == pytest.approx(auprc, abs=0.005)
    assert _legend_number(ax, r"n=([0-9,]+)") == len(split.test)
    assert len(ax.lines) == 2
    share = split.test["label"].mean()
    np.testing.assert_allclose(ax.lines[1].get_ydata(), share)


def test_curves_drop_prior_pairs_unless_include_prior(fitted, truth):
    edges = fitted.uns["held"]["edges"]
    without = gl.pl.roc_curve(fitted, truth, key="held", show=False)
    with_prior = gl.pl.roc_curve(fitted, truth, key="held", include_prior=True, show=False)
    assert _legend_number(without, r"n=([0-9,]+)") == len(edges) - edges["in_prior"].sum()
    assert _legend_number(with_prior, r"n=([0-9,]+)") == len(edges)


def test_curves_label_pairs_by_membership_in_an_unlabelled_truth(fitted, split):
    pairs = split.test[["source", "target"]]
    positives = split.test.loc[split.test["label"] == 1, ["source", "target"]]
    ax = gl.pl.roc_curve(fitted, positives, key="held", pairs=pairs, show=False)
    by_labels = gl.pl.roc_curve(fitted, None, key="held", pairs=split.test, show=False)
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), by_labels.lines[0].get_xydata())


def test_curves_match_truth_genes_as_strings_ignoring_case(fitted, split):
    lower = split.test.assign(source=split.test["source"].str.lower(), target=split.test["target"].astype("category"))
    ax = gl.pl.roc_curve(fitted, lower, key="held", show=False)
    exact = gl.pl.roc_curve(fitted, split.test, key="held", show=False)
    np.testing.assert_array_equal(ax.lines[0].get_xydata(), exact.lines[0].get_xydata())


def test_curves_with_one_class_only_raise_naming_the_counts(fitted, truth):
    # every true edge is a training positive of "grn": without the prior only negatives are left
    with pytest.raises(gl.InputError, match=r"0 positive and \d+ negative.*include_prior=True"):
        gl.pl.roc_curve(fitted, truth, key="grn", show=False)
    only_edges = truth[["source", "target"]].assign(label=1)
    with pytest.raises(gl.InputError, match=rf"{len(truth)} positive and 0 negative"):
        gl.pl.pr_curve(fitted, None, pairs=only_edges, include_prior=True, show=False)


def test_curves_without_stored_edges_ask_for_grn_predict(fitted, truth):
    fresh = fitted.copy()
    del fresh.uns["grn"]["edges"]
    with pytest.raises(gl.InputError, match=r"gl\.tl\.grn_predict\(adata, key='grn'\).*pairs="):
        gl.pl.roc_curve(fresh, truth, show=False)
    with pytest.raises(gl.InputError, match=r"grn_fit"):
        gl.pl.pr_curve(fitted, truth, key="not_fitted", show=False)


def test_curves_reject_bad_truth(fitted, truth):
    with pytest.raises(gl.InputError, match="label"):
        gl.pl.roc_curve(fitted, truth.assign(label=2), show=False)
    with pytest.raises(gl.InputError, match="source"):
        gl.pl.roc_curve(fitted, truth.rename(columns={"source": "tf"}), show=False)
    with pytest.raises(gl.InputError, match="truth is None"):
        gl.pl.roc_curve(fitted, None, show=False)


def test_curves_draw_into_given_axes(fitted, split):
    fig, (left, right) = plt.subplots(1, 2)
    assert gl.pl.roc_curve(fitted, split.test, key="held", ax=left, show=False) is left
    assert gl.pl.pr_curve(fitted, split.test, key="held", ax=right, show=False) is right
    assert len(left.lines) == 2 and len(right.lines) == 2
