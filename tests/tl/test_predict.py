import anndata as ad
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import grnlink as gl


@pytest.fixture
def fitted(small_fit, fast):
    return small_fit(model="two_tower", groupby="cell_type", **fast)


def test_predict_default_scores_every_prior_tf_against_every_gene(fitted, truth):
    edges = gl.tl.grn_predict(fitted)
    n_tfs = truth["source"].nunique()
    assert len(edges) == n_tfs * (fitted.n_vars - 1)
    columns = ["source", "target", "score", "probability", "precision", "specificity", "in_prior"]
    assert list(edges.columns) == columns
    assert edges["in_prior"].sum() == len(truth)
    assert not (edges["source"].astype(str) == edges["target"].astype(str)).any()


def test_predict_writes_csr_scores_aligned_to_var_names(fitted):
    edges = gl.tl.grn_predict(fitted)
    matrix = fitted.varp["grn_scores"]
    assert sp.isspmatrix_csr(matrix) or isinstance(matrix, sp.csr_array)
    assert matrix.shape == (fitted.n_vars, fitted.n_vars)
    row = fitted.var_names.get_loc(str(edges["source"].iloc[7]))
    col = fitted.var_names.get_loc(str(edges["target"].iloc[7]))
    assert matrix[row, col] == pytest.approx(edges["score"].iloc[7])
    pd.testing.assert_frame_equal(fitted.uns["grn"]["edges"], edges)


def test_predict_rows_follow_the_order_of_pairs(fitted, truth):
    pairs = truth.sample(frac=1.0, random_state=3)[["source", "target"]].reset_index(drop=True)
    pairs = pd.concat([pairs, pairs.iloc[:5]], ignore_index=True)  # duplicates allowed
    edges = gl.tl.grn_predict(fitted, pairs=pairs)
    assert edges["source"].astype(str).tolist() == pairs["source"].tolist()
    assert edges["target"].astype(str).tolist() == pairs["target"].tolist()
    assert edges["in_prior"].all()
    np.testing.assert_array_equal(edges["score"].iloc[-5:].to_numpy(), edges["score"].iloc[:5].to_numpy())


def test_predict_top_k_keeps_the_best_targets_of_each_tf(fitted):
    full = gl.tl.grn_predict(fitted)
    top = gl.tl.grn_predict(fitted, top_k=7)
    assert top.groupby("source", observed=True).size().eq(7).all()
    for tf, group in full.groupby("source", observed=True):
        best = set(group.nlargest(7, "score")["target"].astype(str))
        assert set(top.loc[top["source"] == tf, "target"].astype(str)) == best


def test_predict_in_small_chunks_equals_one_pass(fitted):
    one_pass = gl.tl.grn_predict(fitted, chunk_size=10**6)
    chunked = gl.tl.grn_predict(fitted, chunk_size=97)
    pd.testing.assert_frame_equal(one_pass, chunked)


def test_predict_scores_survive_h5ad(fitted, tmp_path):
    before = gl.tl.grn_predict(fitted)
    path = tmp_path / "fitted.h5ad"
    fitted.write_h5ad(path)
    reread = ad.read_h5ad(path)
    after = gl.tl.grn_predict(reread)
    np.testing.assert_array_equal(before["score"].to_numpy(), after["score"].to_numpy())
    pd.testing.assert_frame_equal(before, reread.uns["grn"]["edges"].pipe(lambda e: e), check_categorical=False)


@pytest.mark.parametrize("model", ["two_tower", "cross_encoder", "pcc"])
def test_same_seed_same_scores(adata, truth, fast, model):
    kwargs = fast if model != "pcc" else {}
    first, second = adata.copy(), adata.copy()
    gl.tl.grn_fit(first, truth, model=model, seed=3, **kwargs)
    gl.tl.grn_fit(second, truth, model=model, seed=3, **kwargs)
    np.testing.assert_array_equal(gl.tl.grn_predict(first)["score"], gl.tl.grn_predict(second)["score"])


def test_different_seeds_give_different_models(adata, truth, fast):
    first, second = adata.copy(), adata.copy()
    gl.tl.grn_fit(first, truth, model="two_tower", seed=0, **fast)
    gl.tl.grn_fit(second, truth, model="two_tower", seed=1, **fast)
    assert not np.array_equal(gl.tl.grn_predict(first)["score"], gl.tl.grn_predict(second)["score"])


def test_predict_for_chosen_tfs(fitted, truth):
    tf = truth["source"].iloc[0]
    edges = gl.tl.grn_predict(fitted, tfs=[tf.lower()])
    assert set(edges["source"].astype(str)) == {tf}
    assert len(edges) == fitted.n_vars - 1


def test_novel_lists_the_best_pairs_outside_the_prior(fitted, truth):
    all_edges = gl.tl.grn_predict(fitted)
    novel = gl.tl.grn_novel(fitted, top_k=4, n_top=15)
    columns = ["source", "target", "score", "probability", "precision", "specificity", "rank", "rank_in_tf"]
    assert list(novel.columns) == [*columns, "n_prior_targets"]
    assert novel["rank"].tolist() == list(range(1, 16))
    prior_pairs = set(zip(truth["source"], truth["target"], strict=True))
    assert not any(pair in prior_pairs for pair in zip(novel["source"], novel["target"], strict=True))
    outside = all_edges.loc[~all_edges["in_prior"]].astype({"source": str})
    per_tf = outside.sort_values("score", ascending=False, kind="stable").groupby("source").head(4)
    expected = per_tf.sort_values("score", ascending=False, kind="stable").head(15)
    np.testing.assert_allclose(novel["score"], expected["score"])
    assert novel["source"].tolist() == expected["source"].tolist()
    row = novel.iloc[0]
    tf_scores = all_edges.loc[all_edges["source"].astype(str) == row["source"], "score"]
    assert row["rank_in_tf"] == int((tf_scores > row["score"]).sum()) + 1
    assert row["n_prior_targets"] == int((truth["source"] == row["source"]).sum())


def test_novel_top_k_is_per_tf_and_n_top_is_the_total(fitted, truth):
    novel = gl.tl.grn_novel(fitted, top_k=3)
    assert novel.groupby("source").size().eq(3).all()
    assert novel["source"].nunique() == truth["source"].nunique()
    assert len(gl.tl.grn_novel(fitted, top_k=3, n_top=5)) == 5


def test_novel_writes_nothing(fitted):
    gl.tl.grn_predict(fitted, top_k=3)
    edges_before = fitted.uns["grn"]["edges"].copy()
    scores_before = fitted.varp["grn_scores"].copy()
    gl.tl.grn_novel(fitted, top_k=5)
    pd.testing.assert_frame_equal(fitted.uns["grn"]["edges"], edges_before)
    assert (fitted.varp["grn_scores"] != scores_before).nnz == 0


def test_novel_for_chosen_tfs(fitted, truth):
    tf = truth["source"].iloc[0]
    novel = gl.tl.grn_novel(fitted, top_k=4, tfs=[tf])
    assert set(novel["source"]) == {tf}
    assert len(novel) == 4


def test_predict_inplace_false_returns_the_table_and_writes_nothing(fitted):
    edges = gl.tl.grn_predict(fitted, top_k=3, inplace=False)
    assert len(edges) == 3 * fitted.uns["grn"]["tfs"].size
    assert "edges" not in fitted.uns["grn"] and "grn_scores" not in fitted.varp
    pd.testing.assert_frame_equal(edges, gl.tl.grn_predict(fitted, top_k=3))
    assert "edges" in fitted.uns["grn"]


def test_predict_checks_inplace_before_scoring(fitted):
    with pytest.raises(gl.InputError, match=r"inplace='no' is not valid"):
        gl.tl.grn_predict(fitted, inplace="no")
    assert "edges" not in fitted.uns["grn"] and "grn_scores" not in fitted.varp


FACTORISED = {
    "two_tower": {"n_ensemble": 2, "max_epochs": 4},
    "dual_encoder": {"max_epochs": 4},
    "pcc": {},
    "genie3": {"n_estimators": 10},
    "gnt": {"max_epochs": 2, "svm_kernel": "linear"},
    "scregnet": {"max_epochs": 2, "pair": "concat_product"},
    "sctransnet": {"max_epochs": 2},
    "degree_adjusted": {"n_trees": 20, "n_folds": 2},
    "stack": {"n_folds": 2, "base_options": {"degree_adjusted": {"n_trees": 20}, "sctransnet": {"max_epochs": 2}}},
}


@pytest.mark.parametrize("model", sorted(FACTORISED))
def test_genome_wide_scoring_by_matrix_products_equals_scoring_pair_by_pair(adata, truth, model):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", **FACTORISED[model])
    fitted = gl.tl._store.load_fitted(adata, "grn")
    assert fitted.model.score_matrix(np.array([0, 1]), adata.n_vars) is not None
    by_matrix = gl.tl.grn_predict(adata, inplace=False)
    by_pair = gl.tl.grn_predict(adata, pairs=by_matrix[["source", "target"]], inplace=False)
    np.testing.assert_allclose(by_matrix["score"], by_pair["score"], rtol=1e-5, atol=1e-9)
    top = gl.tl.grn_predict(adata, top_k=7, inplace=False)
    assert (top.groupby("source", observed=True).size() == 7).all()
    best = by_matrix.sort_values("score", ascending=False, kind="stable").groupby("source", observed=True).head(7)
    assert top["score"].sum() == pytest.approx(best["score"].sum(), rel=1e-9)


@pytest.mark.parametrize(
    "model, options",
    [
        ("cross_encoder", {"n_ensemble": 1, "max_epochs": 3}),
        ("sctransnet", {"max_epochs": 2, "pair": "concat"}),
        (
            "stack",
            {"base_models": ("cross_encoder",), "n_folds": 2, "base_options": {"cross_encoder": {"max_epochs": 2}}},
        ),
    ],
)
def test_models_without_a_factorised_score_say_so(adata, truth, model, options):
    gl.tl.grn_fit(adata, truth, model=model, **options)
    assert gl.tl._store.load_fitted(adata, "grn").model.score_matrix(np.array([0]), adata.n_vars) is None


def test_genome_scale_default_keeps_the_best_targets_per_tf_unless_all_are_asked_for(fitted, monkeypatch, log_lines):
    from grnlink.tl import _predict

    monkeypatch.setattr(_predict, "ALL_PAIRS_LIMIT", 100)
    monkeypatch.setattr(_predict, "GENOME_TOP_K", 5)
    edges = gl.tl.grn_predict(fitted)
    assert (edges.groupby("source", observed=True).size() == 5).all()
    assert fitted.varp["grn_scores"].nnz == len(edges)
    assert any("keeping the 5 best targets of each TF" in line for line in log_lines)
    every = gl.tl.grn_predict(fitted, top_k="all")
    assert len(every) == every["source"].nunique() * (fitted.n_vars - 1)
    with pytest.raises(gl.InputError, match="top_k"):
        gl.tl.grn_predict(fitted, top_k="some")
