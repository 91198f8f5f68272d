"""gl.tl.grn_network hands decoupler a signed, calibrated network computed from the stored model."""

from __future__ import annotations

import decoupler as dc
import numpy as np
import pandas as pd
import pytest

import grnlink as gl


@pytest.fixture
def fitted(small_fit, fast):
    return small_fit(model="two_tower", groupby="cell_type", **fast)


def _activities(adata, net) -> pd.DataFrame:
    data = adata.copy()
    dc.mt.ulm(data, net, tmin=3)
    return dc.pp.get_obsm(data, "score_ulm").to_df()


def _median_tf_correlation(a: pd.DataFrame, b: pd.DataFrame) -> float:
    shared = sorted(set(a.columns) & set(b.columns))
    return float(np.median([np.corrcoef(a[tf], b[tf])[0, 1] for tf in shared]))


@pytest.mark.parametrize("model", gl.models.available_models())
def test_ulm_and_viper_accept_the_network_of_every_model(adata, truth, model, model_options):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", **model_options[model])
    net = gl.tl.grn_network(adata, top_k=12)
    assert not net.duplicated(["source", "target"]).any()
    assert (net["weight"].abs() > 0).all() and (net["weight"].abs() <= 1).all()
    data = adata.copy()
    dc.mt.ulm(data, net, tmin=5)
    dc.mt.viper(data, net, tmin=5)
    for method in ("ulm", "viper"):
        activity = data.obsm[f"score_{method}"]
        assert activity.shape == (data.n_obs, net["source"].nunique())
        assert np.isfinite(activity.to_numpy()).all()


def test_tf_activities_from_the_network_track_those_from_the_true_network(fitted, truth):
    reference = _activities(fitted, truth)
    net = gl.tl.grn_network(fitted, top_k=10)
    shuffled = net.assign(target=np.random.default_rng(0).permutation(net["target"].to_numpy()))
    shuffled = shuffled.drop_duplicates(["source", "target"])
    ours, control = (_median_tf_correlation(_activities(fitted, n), reference) for n in (net, shuffled))
    print(f"median per-TF correlation with true-network activities: network {ours:.2f}, shuffled targets {control:.2f}")
    assert ours > 0.25
    assert ours > control + 0.2


def test_network_is_computed_from_the_model_not_from_the_last_predict(fitted, truth):
    expected = gl.tl.grn_network(fitted, top_k=6)
    gl.tl.grn_predict(fitted, pairs=truth.iloc[:1])  # a one-pair predict overwrites uns["grn"]["edges"]
    net = gl.tl.grn_network(fitted, top_k=6)
    pd.testing.assert_frame_equal(net, expected)
    assert len(net) == 6 * truth["source"].nunique()


def test_network_rows_are_unique_sorted_and_carry_score_and_in_prior(fitted, truth):
    net = gl.tl.grn_network(fitted, top_k=5)
    assert list(net.columns) == [
        "source",
        "target",
        "weight",
        "score",
        "probability",
        "precision",
        "specificity",
        "in_prior",
    ]
    assert not net.duplicated(["source", "target"]).any()
    assert net.groupby("source").size().eq(5).all()
    assert net["source"].map(type).eq(str).all()
    assert net.groupby("source")["weight"].apply(lambda w: w.abs().is_monotonic_decreasing).all()
    prior_pairs = set(zip(truth["source"], truth["target"], strict=True))
    assert net["in_prior"].tolist() == [p in prior_pairs for p in zip(net["source"], net["target"], strict=True)]
    predicted = gl.tl.grn_predict(fitted, inplace=False).astype({"source": str, "target": str})
    merged = net.merge(predicted, on=["source", "target"], suffixes=("", "_predict"))
    assert len(merged) == len(net)
    np.testing.assert_allclose(merged["score"], merged["score_predict"])
    np.testing.assert_allclose(merged["weight"].abs(), merged["probability"])


def test_prior_edges_take_the_prior_sign_and_new_edges_the_correlation_sign(fitted, truth):
    net = gl.tl.grn_network(fitted, top_k=15)
    by_correlation = gl.tl.grn_network(fitted, top_k=15, sign="correlation")
    pd.testing.assert_series_equal(net["weight"].abs(), by_correlation["weight"].abs())
    prior_sign = truth.set_index(["source", "target"])["weight"].pipe(np.sign)
    in_prior = net.loc[net["in_prior"]]
    expected = prior_sign.loc[list(zip(in_prior["source"], in_prior["target"], strict=True))].to_numpy()
    np.testing.assert_array_equal(np.sign(in_prior["weight"]), expected)
    assert (np.sign(in_prior["weight"]) < 0).any()  # the simulated prior has repressing edges
    novel = net.loc[~net["in_prior"]]
    np.testing.assert_array_equal(novel["weight"], by_correlation.loc[~net["in_prior"], "weight"])
    x = fitted.X.toarray()
    for row in novel.head(5).itertuples():
        r = np.corrcoef(x[:, fitted.var_names.get_loc(row.source)], x[:, fitted.var_names.get_loc(row.target)])[0, 1]
        assert np.sign(row.weight) == (-1.0 if r < 0 else 1.0)


def test_deprecated_min_score_still_keeps_edges_of_at_least_that_confidence(fitted):
    full = gl.tl.grn_network(fitted, top_k=10)
    cut = float(full["weight"].abs().median())
    with pytest.warns(FutureWarning, match="min_precision"):
        kept = gl.tl.grn_network(fitted, top_k=10, min_score=cut)
    pd.testing.assert_frame_equal(kept, full.loc[full["weight"].abs() >= cut].reset_index(drop=True))


def test_min_precision_keeps_edges_of_at_least_that_precision(fitted):
    full = gl.tl.grn_network(fitted, top_k=10, prior_coverage=0.6)
    cut = float(full["precision"].median())
    kept = gl.tl.grn_network(fitted, top_k=10, min_precision=cut, prior_coverage=0.6)
    pd.testing.assert_frame_equal(kept, full.loc[full["precision"] >= cut].reset_index(drop=True))
    assert 0 < len(kept) < len(full)


def test_network_arguments_after_adata_are_keyword_only(fitted):
    with pytest.raises(TypeError):
        gl.tl.grn_network(fitted, "grn", 10)


def test_networks_of_two_models_share_one_weight_scale(adata, truth, model_options):
    """Raw scores differ in scale between models (gnt's SVM margins); the weights do not."""
    for model in ("gnt", "pcc"):
        gl.tl.grn_fit(adata, truth, model=model, key_added=model, **model_options[model])
    nets = {m: gl.tl.grn_network(adata, key=m, top_k=10) for m in ("gnt", "pcc")}
    assert gl.tl.grn_predict(adata, key="gnt", inplace=False)["score"].min() < 0  # margins, not probabilities
    for net in nets.values():
        assert net["weight"].abs().between(0, 1, inclusive="right").all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top_k": 0}, "top_k"),
        ({"min_score": 1.5}, "min_score"),
        ({"min_precision": -0.1}, "min_precision"),
        ({"sign": "mode"}, "sign"),
        ({"rank_by": "degree"}, "rank_by"),
        ({"prior_coverage": 0}, "prior_coverage"),
    ],
)
def test_network_rejects_bad_arguments(fitted, kwargs, match):
    with pytest.raises(gl.InputError, match=match):
        gl.tl.grn_network(fitted, **kwargs)


def test_network_of_a_model_without_calibration_asks_for_a_refit(fitted, as_format_1):
    as_format_1(fitted.uns["grn"])
    with pytest.raises(gl.InputError, match="without a probability calibration.*Fit it again"):
        gl.tl.grn_network(fitted)
