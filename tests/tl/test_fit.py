import inspect
import json
import typing

import numpy as np
import pandas as pd
import pytest

import grnlink as gl
from grnlink._pairs import NEGATIVE_STRATEGIES, PairSet, pair_keys
from grnlink.tl import _fit
from grnlink.tl._calibration import CALIBRATION_METHODS
from grnlink.tl._fit import _NegativeSampler, _training_pairs


def test_fit_stores_model_training_curves_and_coverage(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="two_tower", groupby="cell_type", key_added="mygrn", **fast)
    entry = adata.uns["mygrn"]
    assert entry["model"] == "two_tower"
    training = entry["training"]
    assert training["loss"].shape[0] == 1 and np.isfinite(training["loss"][0, 0])
    assert np.isfinite(training["val_metrics"]["auroc"])
    assert training["val_auroc"].shape == training["loss"].shape
    assert training["n_train_pos"] + training["n_val_pos"] == len(truth)
    assert entry["coverage"]["n_edges_mapped"] == len(truth)
    assert json.loads(entry["fit_params"])["features"] == ["expression", "celltype_means"]
    assert len(entry["features"]) == 0  # two_tower scores from the network inputs in its state


def test_fit_leaves_inputs_unchanged(adata, truth, fast):
    prior = truth.copy()
    x_before = adata.X.copy()
    obs_before, var_before = adata.obs.copy(), adata.var.copy()
    gl.tl.grn_fit(adata, prior, model="two_tower", groupby="cell_type", **fast)
    pd.testing.assert_frame_equal(prior, truth)
    assert (adata.X != x_before).nnz == 0
    pd.testing.assert_frame_equal(adata.obs, obs_before)
    pd.testing.assert_frame_equal(adata.var, var_before)


def test_fit_matches_prior_symbols_case_insensitively(adata, truth, fast):
    lower = truth.assign(source=truth["source"].str.lower(), target=truth["target"].str.lower())
    gl.tl.grn_fit(adata, lower, model="pcc")
    assert adata.uns["grn"]["coverage"]["n_edges_mapped"] == len(truth)


@pytest.mark.parametrize("strategy", ["tf_matched", "uniform", "hard"])
def test_excluded_and_prior_pairs_never_train_as_negatives(strategy):
    rng = np.random.default_rng(0)
    n_genes = 60
    source = np.repeat(np.arange(5), 6)
    target = np.concatenate([rng.choice(np.arange(5, n_genes), 6, replace=False) for _ in range(5)])
    excluded = np.unique(pair_keys(np.repeat(np.arange(5), 10), rng.integers(5, n_genes, 50), n_genes))
    z = rng.normal(size=(n_genes, 30))
    sampler = _NegativeSampler(strategy, 2.0, lambda tf: z @ z[tf])
    train, val = _training_pairs(source, target, n_genes, excluded, sampler, 0.2, None, rng)
    for pairs in (train, val):
        keys = pair_keys(pairs.tf, pairs.gene, n_genes)
        assert not np.isin(keys, excluded).any()
        negatives = keys[pairs.label == 0]
        assert not np.isin(negatives, pair_keys(source, target, n_genes)).any()
        assert not (pairs.tf == pairs.gene).any()
    train_keys = pair_keys(train.tf, train.gene, n_genes)
    assert not np.isin(pair_keys(val.tf, val.gene, n_genes), train_keys).any()
    assert train.n_pos + val.n_pos == len(source) - np.isin(pair_keys(source, target, n_genes), excluded).sum()


def test_tf_matched_negatives_share_the_positives_tfs():
    rng = np.random.default_rng(1)
    source = np.array([0, 0, 0, 1, 1])
    target = np.array([5, 6, 7, 8, 9])
    sampler = _NegativeSampler("tf_matched", 1.0, None)
    train, _ = _training_pairs(source, target, 40, np.empty(0, np.int64), sampler, 0.0, None, rng)
    neg = train.label == 0
    assert sorted(train.tf[neg].tolist()) == [0, 0, 0, 1, 1]


def test_hard_negatives_are_the_most_coexpressed_non_targets():
    from grnlink._pairs import sample_negatives

    n_genes = 20
    corr = np.zeros((n_genes, n_genes))
    corr[0] = np.linspace(0, 1, n_genes)  # gene 19 most co-expressed with TF 0
    tf, gene = sample_negatives(
        np.array([0, 0]),
        np.array([19, 3]),
        n_genes,
        strategy="hard",
        ratio=1.0,
        coexpression=lambda t: corr[t],
        rng=np.random.default_rng(0),
    )
    assert gene.tolist() == [17, 18]


def test_negative_ratio_sets_the_number_of_negatives(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="two_tower", negative_ratio=3, val_fraction=0.0, **fast)
    training = adata.uns["grn"]["training"]
    assert training["n_train_neg"] == pytest.approx(3 * training["n_train_pos"], rel=0.05)


def test_exclude_removes_prior_edges_from_training(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="two_tower", exclude=truth.iloc[:10], val_fraction=0.0, **fast)
    assert adata.uns["grn"]["training"]["n_train_pos"] == len(truth) - 10


@pytest.mark.parametrize("features", [("expression",), ("celltype_means",), ("embedding",), ()])
def test_each_feature_group_alone_trains(adata, truth, fast, features):
    rng = np.random.default_rng(0)
    adata.varm["X_emb"] = rng.normal(size=(adata.n_vars, 8)).astype(np.float32)
    entities = ("tf", "gene") if not features else ("tf",)  # with no features, identities are all there is
    gl.tl.grn_fit(
        adata,
        truth,
        model="cross_encoder",
        features=features,
        groupby="cell_type",
        embedding_key="X_emb",
        entities=entities,
        **fast,
    )
    assert set(json.loads(adata.uns["grn"]["fit_params"])["features"]) == set(features)
    assert np.isfinite(gl.tl.grn_predict(adata, tfs=[truth["source"].iloc[0]])["score"]).all()


def test_explicit_negatives_and_validation_are_used_as_given():
    n_genes = 40
    source, target = np.repeat(np.arange(4), 5), np.tile(np.arange(10, 15), 4)
    negatives = PairSet(np.repeat(np.arange(4), 3), np.tile(np.arange(20, 23), 4), np.zeros(12))
    validation = PairSet([0, 1], [10, 30], [1, 0])
    excluded = pair_keys(np.array([3]), np.array([20]), n_genes)
    rng = np.random.default_rng(0)
    train, val = _training_pairs(source, target, n_genes, excluded, negatives, 0.5, validation, rng)
    assert val is validation
    keys = set(pair_keys(train.tf, train.gene, n_genes).tolist())
    assert int(pair_keys(0, 10, n_genes)) not in keys, "a validation positive is not trained on"
    assert int(excluded[0]) not in keys
    assert train.n_pos == 19 and len(train) - train.n_pos == 11


def test_explicit_negatives_share_the_hold_out_without_validation():
    n_genes = 40
    source, target = np.repeat(np.arange(4), 10), np.tile(np.arange(10, 20), 4)
    negatives = PairSet(np.repeat(np.arange(4), 10), np.tile(np.arange(20, 30), 4), np.zeros(40))
    empty = np.empty(0, np.int64)
    train, val = _training_pairs(source, target, n_genes, empty, negatives, 0.25, None, np.random.default_rng(0))
    assert val.n_pos == 10 and len(val) - val.n_pos == 10
    assert train.n_pos == 30 and len(train) - train.n_pos == 30


def test_fit_with_a_split_records_its_tables(adata, truth, fast):
    split = gl.bm.split(truth, adata.var_names, protocol="genelink", seed=0)
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="cross_encoder", **fast)
    training = adata.uns["grn"]["training"]
    sizes = split.sizes()
    assert (training["n_train_pos"], training["n_train_neg"]) == (sizes["train_pos"], sizes["train_neg"])
    assert (training["n_val_pos"], training["n_val_neg"]) == (sizes["val_pos"], sizes["val_neg"])


def test_fit_copy_returns_the_fitted_copy_and_leaves_adata_alone(adata, truth, fast):
    keys_before = set(adata.uns)
    fitted = gl.tl.grn_fit(adata, truth, model="two_tower", copy=True, **fast)
    assert "grn" in fitted.uns and set(adata.uns) == keys_before
    assert fitted is not adata
    assert gl.tl.grn_fit(adata, truth, model="pcc") is None


def test_fit_reuses_celltype_means_written_by_pp_for_the_same_groupby(adata, truth, monkeypatch):
    gl.pp.celltype_means(adata, "cell_type", key_added="ct_means")
    adata.varm["ct_means"] = adata.varm["ct_means"] * 2.0 + 1.0  # proves the stored matrix is what is read
    expected = gl.tl._features.standardize_columns(adata.varm["ct_means"])

    def no_recompute(*args, **kwargs):
        raise AssertionError("cell-type means were computed again")

    monkeypatch.setattr(gl.tl._features, "group_means", no_recompute)
    gl.tl.grn_fit(
        adata, truth, model="two_tower", groupby="cell_type", features=["celltype_means"], n_ensemble=1, max_epochs=1
    )
    np.testing.assert_array_equal(adata.uns["grn"]["state"]["inputs"], expected)  # the only feature group


def test_fit_recomputes_celltype_means_for_another_layer_or_changed_groups(adata, truth):
    gl.pp.celltype_means(adata, "cell_type")
    stored = gl.pp._celltype_means.stored_celltype_means
    assert stored(adata, "cell_type", None)[0] == "celltype_means"
    assert stored(adata, "cell_type", "counts") is None
    adata.obs["cell_type"] = adata.obs["cell_type"].cat.rename_categories(lambda c: c + "_renamed")
    assert stored(adata, "cell_type", None) is None


@pytest.mark.parametrize("key", ["true_network", "mine"])
def test_fit_refuses_a_key_holding_something_it_did_not_write(adata, truth, key):
    adata.uns["mine"] = {"note": "my own results"}
    before = adata.uns[key].copy()
    with pytest.raises(gl.InputError, match="overwrite=True"):
        gl.tl.grn_fit(adata, truth, model="pcc", key_added=key)
    assert type(adata.uns[key]) is type(before) and len(adata.uns[key]) == len(before)


def test_fit_refuses_a_scores_matrix_it_did_not_write(adata, truth):
    adata.varp["mine_scores"] = np.eye(adata.n_vars)
    with pytest.raises(gl.InputError, match=r"varp\['mine_scores'\]"):
        gl.tl.grn_fit(adata, truth, model="pcc", key_added="mine")
    assert "mine" not in adata.uns


def test_fit_with_overwrite_replaces_a_foreign_entry(adata, truth):
    adata.uns["mine"] = {"note": "my own results"}
    gl.tl.grn_fit(adata, truth, model="pcc", key_added="mine", overwrite=True)
    assert adata.uns["mine"]["model"] == "pcc" and "note" not in adata.uns["mine"]


def test_refitting_a_key_replaces_the_model_and_removes_its_stale_predictions(adata, truth, monkeypatch):
    lines = []
    monkeypatch.setattr("grnlink.tl._store.info", lines.append)
    gl.tl.grn_fit(adata, truth, model="pcc")
    gl.tl.grn_predict(adata, top_k=3)
    assert "edges" in adata.uns["grn"] and "grn_scores" in adata.varp
    gl.tl.grn_fit(adata, truth, model="genie3", n_estimators=2)
    assert adata.uns["grn"]["model"] == "genie3"
    assert "edges" not in adata.uns["grn"] and "grn_scores" not in adata.varp
    assert lines == ["replaced the pcc model and adata.varp['grn_scores'] under key 'grn' with the new genie3 model"]


@pytest.mark.parametrize("n_cells", [1, 4])
def test_fit_on_fewer_than_a_handful_of_cells_says_so(adata, truth, n_cells):
    with pytest.raises(gl.InputError, match=f"adata has {n_cells} cells"):
        gl.tl.grn_fit(adata[:n_cells].copy(), truth, model="pcc")


def test_fit_on_constant_expression_says_the_features_carry_nothing(adata, truth):
    adata.layers["flat"] = np.ones(adata.shape, dtype=np.float32)
    with pytest.raises(gl.InputError, match="every gene is constant"):
        gl.tl.grn_fit(adata, truth, model="dual_encoder", layer="flat", max_epochs=2)
    assert "grn" not in adata.uns


def test_fit_refuses_a_groupby_column_with_one_group_per_cell(adata, truth):
    adata.obs["umi_count"] = np.random.default_rng(0).normal(size=adata.n_obs)
    with pytest.raises(gl.InputError, match="as many groups as cells"):
        gl.tl.grn_fit(adata, truth, model="pcc", groupby="umi_count")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"copy": "yes"}, r"copy='yes' is not valid"), ({"calibration": 1}, r"calibration=1 is not valid")],
)
def test_fit_checks_copy_and_calibration_before_any_work(adata, truth, kwargs, match):
    with pytest.raises(gl.InputError, match=match):
        gl.tl.grn_fit(adata, truth, model="pcc", **kwargs)
    assert "grn" not in adata.uns


def test_tune_takes_grn_fits_arguments_under_the_same_names_defaults_and_types():
    fit = inspect.signature(gl.tl.grn_fit).parameters
    tune = inspect.signature(gl.tl.grn_tune).parameters
    shared = (*_fit.FIT_ARGUMENTS, "key_added", "overwrite")
    assert len(_fit.FIT_ARGUMENTS) == 14 and "seed" in _fit.FIT_ARGUMENTS and "model" not in _fit.FIT_ARGUMENTS
    for name in shared:
        assert (tune[name].kind, tune[name].default, tune[name].annotation) == (
            fit[name].kind,
            fit[name].default,
            fit[name].annotation,
        ), name


@pytest.mark.parametrize("function", [gl.tl.grn_fit, gl.tl.grn_tune])
def test_the_choices_typed_in_the_fit_signatures_are_those_the_fit_implements(function):
    import optuna  # grn_tune's storage may be an optuna storage

    hints = typing.get_type_hints(function, localns={"optuna": optuna})
    strategies, table = typing.get_args(hints["negatives"])
    assert typing.get_args(strategies) == NEGATIVE_STRATEGIES and table is pd.DataFrame
    assert typing.get_args(hints["calibration"]) == CALIBRATION_METHODS
    (groups,) = typing.get_args(typing.get_args(hints["features"])[0])
    assert typing.get_args(groups) == gl.models.FEATURE_GROUPS


def test_a_fit_reads_and_densifies_the_expression_once(adata, truth, monkeypatch):
    # every feature group, hard negatives (co-expression) and the digest share one read of adata.X
    from grnlink.tl import _features

    reads, densified = [], []
    real_read, real_dense = _features.expression, _features.ExpressionView.dense
    monkeypatch.setattr(_features, "expression", lambda *args: reads.append(args) or real_read(*args))

    def counted_dense(view):
        if view._dense is None:
            densified.append(view.what)
        return real_dense(view)

    monkeypatch.setattr(_features.ExpressionView, "dense", counted_dense)
    gl.tl.grn_fit(
        adata,
        truth,
        model="pcc",
        groupby="cell_type",
        features=["expression", "celltype_means", "gene_stats"],
        negatives="hard",
    )
    assert len(reads) == 1
    assert densified == ["adata.X"]
