"""Networks per group of cells (grn_network / grn_predict with groupby) and grn_compare between them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import grnlink as gl

CLEAN = dict(activity_noise=0.0, inactive_fraction=0.0, dropout=0.0, dispersion=0.0, noise=0.0, library_size=1e5)


@pytest.fixture(scope="module")
def grouped():
    """Clean simulated data in which 40% of the edges act in some cell types only."""
    return gl.ds.simulate(n_genes=150, n_tfs=15, n_cells=800, n_celltypes=4, group_specific=0.4, seed=0, **CLEAN)


@pytest.mark.slow
def test_group_networks_differ_from_the_global_one_and_from_each_other(adata, truth):
    gl.tl.grn_fit(adata, truth, model="degree_adjusted", groupby="cell_type")
    before = {"obs": adata.obs.copy(), "var": adata.var.copy(), "X": adata.X.copy()}
    global_net = gl.tl.grn_network(adata, top_k=10)
    nets = gl.tl.grn_network(adata, top_k=10, groupby="cell_type")
    assert nets.columns[0] == "group" and set(nets["group"]) == set(adata.obs["cell_type"].astype(str))
    assert nets.groupby(["group", "source"]).size().eq(10).all()
    assert not nets.duplicated(["group", "source", "target"]).any()
    keys = ["source", "target"]
    first = nets.loc[nets["group"] == nets["group"].iloc[0]]
    merged = first.merge(global_net, on=keys, how="outer", indicator=True)
    assert (merged["_merge"] != "both").any(), "a group network equals the global network"
    scores = nets.pivot_table(index=keys, columns="group", values="score")
    assert scores.std(axis=1).max() > 0.01
    pd.testing.assert_frame_equal(adata.uns["grn"]["group_network"], nets)
    assert adata.uns["grn"]["group_by"] == "cell_type"
    pd.testing.assert_frame_equal(adata.obs, before["obs"])
    pd.testing.assert_frame_equal(adata.var, before["var"])
    assert (adata.X != before["X"]).nnz == 0


def test_pcc_group_scores_are_correlations_within_the_groups_cells(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc")
    edges = gl.tl.grn_predict(adata, groupby="cell_type", tfs=[truth["source"].iloc[0]], inplace=False)
    row = edges.iloc[3]
    cells = (adata.obs["cell_type"].astype(str) == row["group"]).to_numpy()
    x = adata.X[cells].toarray()
    r = np.corrcoef(x[:, adata.var_names.get_loc(row["source"])], x[:, adata.var_names.get_loc(row["target"])])[0, 1]
    assert row["score"] == pytest.approx(abs(r), rel=1e-5)


@pytest.mark.parametrize("model", ["pcc", "degree_adjusted"])
def test_group_specific_edges_score_higher_in_the_groups_where_they_act(grouped, model):
    truth = grouped.uns["true_network"]
    gl.tl.grn_fit(grouped, truth[["source", "target", "weight"]], model=model, groupby="cell_type")
    edges = gl.tl.grn_predict(grouped, groupby="cell_type", pairs=truth[["source", "target"]], inplace=False)
    n_groups = grouped.obs["cell_type"].nunique()
    specific = truth.loc[truth["groups"].str.count(",") + 1 < n_groups]
    active = edges.merge(specific, on=["source", "target"])
    active["active"] = [g in gs.split(",") for g, gs in zip(active["group"], active["groups"], strict=True)]
    inside, outside = (active.loc[active["active"] == flag, "specificity"].mean() for flag in (True, False))
    print(f"{model}: specificity of group-specific edges where active {inside:.2f}, elsewhere {outside:.2f}")
    assert inside > outside + 0.3


def test_predict_by_group_writes_one_long_table_and_no_matrix(adata, truth):
    gl.tl.grn_fit(adata, truth, model="pcc")
    edges = gl.tl.grn_predict(adata, groupby="cell_type", top_k=4)
    assert "grn_scores" not in adata.varp
    assert edges.groupby(["group", "source"]).size().eq(4).all()
    pd.testing.assert_frame_equal(adata.uns["grn"]["group_edges"], edges)


def test_group_networks_reject_bad_input_and_leave_adata_untouched(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="degree_adjusted")
    uns_keys = set(adata.uns["grn"])
    with pytest.raises(gl.InputError, match="not a column of adata.obs"):
        gl.tl.grn_network(adata, groupby="no_such_column")
    adata.obs["tiny"] = np.where(np.arange(adata.n_obs) < 5, "few", "many")
    with pytest.raises(gl.InputError, match=r"fewer than 10 cells.*'few' \(5\)"):
        gl.tl.grn_network(adata, groupby="tiny")
    assert set(adata.uns["grn"]) == uns_keys
    gl.tl.grn_fit(adata, truth, model="two_tower", key_added="tt", **fast)
    with pytest.raises(gl.InputError, match="two_tower model cannot build a network per group.*degree_adjusted"):
        gl.tl.grn_network(adata, key="tt", groupby="cell_type")


@pytest.mark.slow
def test_the_default_stack_builds_group_networks(adata, truth, model_options):
    gl.tl.grn_fit(adata, truth, groupby="cell_type", **model_options["stack"])
    nets = gl.tl.grn_network(adata, top_k=5, groupby="cell_type")
    first, last = sorted(set(nets["group"]))[0], sorted(set(nets["group"]))[-1]
    diff = gl.tl.grn_compare(nets, groups=(first, last))
    assert len(diff) > 0 and set(diff["status"]) <= {"gained", "lost", "flipped"}


def _net(rows):
    return pd.DataFrame(rows, columns=["source", "target", "weight", "score"])


def test_compare_lists_gained_lost_and_flipped_edges_ranked_by_change():
    a = _net([("T1", "G1", 0.9, 0.9), ("T1", "G2", 0.5, 0.5), ("T2", "G3", 0.8, 0.8), ("T2", "G4", 0.6, 0.6)])
    b = _net([("T1", "G1", 0.9, 0.9), ("T1", "G5", 0.95, 0.95), ("T2", "G3", -0.8, 0.8), ("T2", "G4", 0.1, 0.1)])
    a_copy, b_copy = a.copy(), b.copy()
    diff = gl.tl.grn_compare(a, b)
    status = dict(zip(zip(diff["source"], diff["target"], strict=True), diff["status"], strict=True))
    assert status == {("T1", "G5"): "gained", ("T1", "G2"): "lost", ("T2", "G3"): "flipped"}
    gained = diff.loc[diff["status"] == "gained"].iloc[0]
    assert gained["change"] == pytest.approx(0.95 - 0.5) and np.isnan(gained["weight_a"])
    assert diff["change"].abs().is_monotonic_decreasing
    pd.testing.assert_frame_equal(a, a_copy)
    pd.testing.assert_frame_equal(b, b_copy)


def test_compare_rejects_bad_input():
    a = _net([("T1", "G1", 0.9, 0.9)])
    with pytest.raises(gl.InputError, match="lacks the column"):
        gl.tl.grn_compare(a.drop(columns="weight"), a)
    with pytest.raises(gl.InputError, match="group networks"):
        gl.tl.grn_compare(a)
    with pytest.raises(gl.InputError, match="not in the table's 'group' column"):
        gl.tl.grn_compare(a.assign(group="x"), groups=("x", "y"))
    with pytest.raises(gl.InputError, match="more than once"):
        gl.tl.grn_compare(pd.concat([a, a]), a)


def test_a_tf_the_group_does_not_express_has_no_network_there(adata, truth):
    tf = truth["source"].iloc[0]
    silent_group = str(adata.obs["cell_type"].iloc[0])
    in_group = (adata.obs["cell_type"].astype(str) == silent_group).to_numpy()
    column = adata.var_names.get_loc(tf)
    x = adata.X.tolil()
    for row in np.flatnonzero(in_group):
        x[row, column] = 0.0
    adata.X = x.tocsr()
    gl.tl.grn_fit(adata, truth, model="pcc")
    nets = gl.tl.grn_network(adata, top_k=5, groupby="cell_type")
    assert tf not in set(nets.loc[nets["group"] == silent_group, "source"])
    assert tf in set(nets.loc[nets["group"] != silent_group, "source"])
