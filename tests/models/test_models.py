"""Each model fits, beats chance on held-out simulated edges, and round-trips."""

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import grnlink as gl

NEURAL = ["two_tower", "cross_encoder"]


@pytest.fixture(scope="module")
def held_out(simulated):
    # the default size (500 genes, 50 TFs, 2000 cells) at signal=0, the data of grnlink before issue 23: the TF's
    # mRNA hides its activity (pcc 0.611) while its targets share it, which these models must learn. At the default
    # signal pcc reaches 0.866 and neither beats it (two_tower 0.729, cross_encoder 0.738; see test_signal.py)
    adata = simulated(seed=0, signal=0.0)
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    return adata, split


def _held_out_tf_auroc(adata, split, model, **kwargs):
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model=model, groupby="cell_type", seed=0, **kwargs)
    scores = gl.tl.grn_predict(adata, pairs=split.test)["score"].to_numpy()
    return gl.bm.evaluate(split.test, scores)["tf_auroc"]


@pytest.mark.parametrize("model", NEURAL)
@pytest.mark.slow
def test_neural_model_beats_chance_and_correlation_on_held_out_edges(held_out, model):
    adata, split = held_out
    adata = adata.copy()
    auroc = _held_out_tf_auroc(adata, split, model, n_ensemble=3)
    pcc = _held_out_tf_auroc(adata, split, "pcc")
    print(f"{model}: per-TF AUROC {auroc:.3f}, pcc {pcc:.3f}")
    assert auroc > 0.66
    assert auroc > pcc + 0.04


def test_registry_lists_models_and_rejects_unknown_names():
    assert {"two_tower", "cross_encoder", "pcc"} <= set(gl.models.available_models())
    with pytest.raises(gl.InputError, match="Valid names"):
        gl.models.get_model_class("transformer9000")


def test_unknown_model_option_lists_valid_options():
    with pytest.raises(gl.InputError, match="entity_dim"):
        gl.models.TwoTower(n_layers=3)


@pytest.mark.parametrize("model", NEURAL + ["pcc"])
def test_model_state_survives_h5ad(adata, truth, fast, model, tmp_path):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", **(fast if model != "pcc" else {}))
    before = gl.tl.grn_predict(adata)["score"].to_numpy()
    adata.write_h5ad(tmp_path / "m.h5ad")
    after = gl.tl.grn_predict(ad.read_h5ad(tmp_path / "m.h5ad"))["score"].to_numpy()
    np.testing.assert_array_equal(before, after)


def test_two_tower_ensemble_averages_members_and_reports_cv(adata, truth):
    gl.tl.grn_fit(adata, truth, model="two_tower", n_ensemble=3, max_epochs=6)
    training = adata.uns["grn"]["training"]
    assert training["loss"].shape[0] == 3
    assert len(training["member_val_auroc"]) == 3
    assert training["member_cv"] >= 0
    assert len(adata.uns["grn"]["state"]["members"]) == 3


def test_cross_encoder_interaction_switch_changes_the_network(adata):
    features = {"expression": np.zeros((10, 4), np.float32)}
    with_product = gl.models.CrossEncoder().n_parameters(features, 10)
    without = gl.models.CrossEncoder(interaction=False).n_parameters(features, 10)
    assert with_product - without == 128 * 256  # one d-wide block fewer into the first joint layer


def test_pcc_is_absolute_pearson_correlation(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc", max_cells=None)
    tf, gene = truth["source"].iloc[0], truth["target"].iloc[0]
    edges = gl.tl.grn_predict(adata, pairs=truth.iloc[:1])
    x = adata.X.toarray() if hasattr(adata.X, "toarray") else adata.X
    r = np.corrcoef(x[:, adata.var_names.get_loc(tf)], x[:, adata.var_names.get_loc(gene)])[0, 1]
    assert edges["score"].iloc[0] == pytest.approx(abs(r), abs=1e-5)


def test_trainer_early_stopping_restores_the_best_epoch(adata, truth):
    gl.tl.grn_fit(adata, truth, model="cross_encoder", n_ensemble=1, max_epochs=60, patience=3)
    training = adata.uns["grn"]["training"]
    n_epochs, best = int(training["n_epochs"][0]), int(training["best_epoch"][0])
    assert n_epochs < 60 and n_epochs - best - 1 == 3
    curve = training["val_auroc"][0, :n_epochs]
    assert curve[best] == np.nanmax(curve)


@pytest.mark.parametrize("model", ["two_tower", "dual_encoder", "cross_encoder"])
def test_tf_identity_tables_have_rows_for_the_fits_tfs_only(adata, truth, fast, model):
    gl.tl.grn_fit(adata, truth, model=model, **fast)
    state = adata.uns["grn"]["state"]
    tf_genes = np.asarray(state["tf_genes"])
    assert set(adata.var_names[tf_genes]) == set(truth["source"])
    name = next(k for k in state["members"]["member0"] if k.endswith("entity.weight") and "gene" not in k)
    table = state["members"]["member0"][name]
    assert table.shape[0] == len(tf_genes) + 1  # the TFs and one zero row for every other gene
    np.testing.assert_array_equal(table[-1], 0.0)  # training never moved it
    not_tf = next(g for g in adata.var_names if g not in set(truth["source"]))
    pairs = pd.DataFrame({"source": [not_tf], "target": [truth["target"].iloc[0]]})
    assert np.isfinite(gl.tl.grn_predict(adata, pairs=pairs)["score"]).all()
