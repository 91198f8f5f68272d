"""Every bad input gets a clear error that names the fix, and leaves the AnnData untouched."""

import numpy as np
import pandas as pd
import pytest

import grnlink as gl


def _snapshot(adata):
    return (adata.X.copy(), adata.obs.copy(), adata.var.copy(), dict(adata.uns), set(adata.varm), set(adata.varp))


def _assert_untouched(adata, snap):
    x, obs, var, uns, varm, varp = snap
    assert (adata.X != x).nnz == 0 if hasattr(x, "nnz") else np.array_equal(adata.X, x)
    pd.testing.assert_frame_equal(adata.obs, obs)
    pd.testing.assert_frame_equal(adata.var, var)
    assert set(adata.uns) == set(uns) and set(adata.varm) == varm and set(adata.varp) == varp


def _expect(adata, match, call):
    snap = _snapshot(adata)
    with pytest.raises(gl.InputError, match=match):
        call()
    _assert_untouched(adata, snap)


def test_prior_sharing_no_gene_with_var_names(adata):
    prior = pd.DataFrame({"source": ["FOO1", "FOO2"], "target": ["BAR1", "BAR2"]})
    _expect(adata, "shares no gene", lambda: gl.tl.grn_fit(adata, prior))


def test_prior_without_source_target_columns(adata, truth):
    prior = truth.rename(columns={"source": "tf", "target": "gene"})
    _expect(adata, "source", lambda: gl.tl.grn_fit(adata, prior))


def test_groupby_missing(adata, truth):
    _expect(adata, "not a column of adata.obs", lambda: gl.tl.grn_fit(adata, truth, groupby="tissue"))


def test_groupby_with_one_group(adata, truth):
    adata.obs["one"] = "all"
    _expect(adata, "at least two", lambda: gl.tl.grn_fit(adata, truth, groupby="one"))


def test_embedding_key_absent(adata, truth):
    _expect(adata, "gene_embeddings", lambda: gl.tl.grn_fit(adata, truth, embedding_key="X_scgpt"))


def test_embedding_of_wrong_shape(adata, truth):
    adata.varm["X_bad"] = np.zeros((adata.n_vars, 0), dtype=np.float32)
    _expect(adata, "shape", lambda: gl.tl.grn_fit(adata, truth, embedding_key="X_bad"))


def test_nan_in_expression(adata, truth):
    adata.layers["dense"] = adata.X.toarray()
    adata.layers["dense"][3, 5] = np.nan
    _expect(adata, "NaN", lambda: gl.tl.grn_fit(adata, truth, layer="dense"))


def test_inf_in_expression_for_celltype_means(adata, truth):
    adata.layers["dense"] = adata.X.toarray()
    adata.layers["dense"][0, 0] = np.inf
    _expect(adata, "infinite", lambda: gl.tl.grn_fit(adata, truth, layer="dense", groupby="cell_type"))


def test_duplicated_var_names(adata, truth):
    names = adata.var_names.tolist()
    names[1] = names[0]
    adata.var_names = names
    _expect(adata, "var_names_make_unique", lambda: gl.tl.grn_fit(adata, truth))


def test_exclude_naming_unknown_genes(adata, truth):
    exclude = pd.DataFrame({"source": [truth["source"].iloc[0]], "target": ["NOT_A_GENE"]})
    _expect(adata, "NOT_A_GENE", lambda: gl.tl.grn_fit(adata, truth, exclude=exclude))


def test_pairs_naming_unknown_genes(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, **fast)
    pairs = pd.DataFrame({"source": ["NOT_A_TF"], "target": [truth["target"].iloc[0]]})
    _expect(adata, "NOT_A_TF", lambda: gl.tl.grn_predict(adata, pairs=pairs))


def test_predict_before_fit(adata):
    _expect(adata, "grn_fit", lambda: gl.tl.grn_predict(adata))
    _expect(adata, "grn_fit", lambda: gl.tl.grn_network(adata))
    _expect(adata, "grn_fit", lambda: gl.tl.grn_novel(adata))


def test_novel_with_bad_top_k(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, **fast)
    _expect(adata, "top_k must be a positive integer", lambda: gl.tl.grn_novel(adata, top_k=0))


def test_unknown_model_lists_valid_names(adata, truth):
    _expect(adata, "two_tower", lambda: gl.tl.grn_fit(adata, truth, model="gcn9000"))


def test_unknown_negative_strategy(adata, truth):
    _expect(adata, "tf_matched", lambda: gl.tl.grn_fit(adata, truth, negatives="random"))


def test_resource_name_as_prior_points_to_get_prior(adata):
    _expect(adata, "get_prior", lambda: gl.tl.grn_fit(adata, "dorothea"))


def test_validation_without_labels(adata, truth):
    val = truth.iloc[:5][["source", "target"]]
    _expect(adata, "label", lambda: gl.tl.grn_fit(adata, truth, validation=val, model="pcc"))


def test_validation_with_labels_other_than_0_and_1(adata, truth):
    val = truth.iloc[:5][["source", "target"]].assign(label=2)
    _expect(adata, "0 and 1", lambda: gl.tl.grn_fit(adata, truth, validation=val, model="pcc"))


def test_negatives_table_holding_prior_edges(adata, truth):
    _expect(adata, "both", lambda: gl.tl.grn_fit(adata, truth, negatives=truth.iloc[:3], model="pcc"))


def test_bm_run_refuses_the_arguments_the_split_sets(adata, truth):
    _expect(adata, "split_options", lambda: gl.bm.run(adata, truth, ["pcc"], negative_ratio=5))


def test_pruning_a_model_without_hidden_layers(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc")
    _expect(adata, "not a neural network", lambda: gl.bm.prune(adata, 0.5))
