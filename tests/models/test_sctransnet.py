"""sctransnet: attentive pooling over cells + GAT over the training graph (paper 002)."""

import json

import anndata as ad
import numpy as np
import pytest
import torch

import grnlink as gl
from grnlink.models._graph import TrainingGraph
from grnlink.models.sctransnet import AttentivePooling, ScTransNet, cell_context

ABLATIONS = [{"use_attention": False}, {"use_gat": False}, {"use_cells": False}]


def _scores(adata, prior, **kwargs):
    gl.tl.grn_fit(adata, prior, model="sctransnet", groupby="cell_type", **kwargs)
    return gl.tl.grn_predict(adata)["score"].to_numpy()


def _pair_set(frame, genes):
    pos = {g: i for i, g in enumerate(genes)}
    return {(pos[s], pos[t]) for s, t in zip(frame["source"], frame["target"])}


def test_sctransnet_fits_through_grn_fit(adata, truth, fast):
    scores = _scores(adata, truth, **fast)
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()
    entry = adata.uns["grn"]
    assert entry["model"] == "sctransnet"
    assert entry["state"]["graph"].shape[0] == 2
    # the cell branch reads the per-cell values, not their principal components: they are read again from
    # adata when the model is loaded (format 3 keeps their digest, not the genes x cells matrix)
    assert "expression" not in entry["features"] and set(json.loads(entry["rebuilt_features"])) == {"expression"}


@pytest.mark.parametrize("switch", ABLATIONS, ids=lambda s: next(iter(s)))
def test_each_ablation_switch_builds_and_trains(adata, truth, fast, switch):
    scores = _scores(adata, truth, **fast, **switch)
    assert np.isfinite(scores).all() and scores.std() > 0
    weights = adata.uns["grn"]["state"]["members"]["member0"]
    has = {part: any(k.startswith(part) for k in weights) for part in ("pool.", "pool.query", "gat.")}
    assert has["pool."] == switch.get("use_cells", True)
    assert has["pool.query"] == (switch.get("use_cells", True) and switch.get("use_attention", True))
    assert has["gat."] == switch.get("use_gat", True)


def test_turning_off_both_branches_or_an_unknown_pair_head_raises():
    with pytest.raises(gl.InputError, match="at least one branch"):
        ScTransNet(use_cells=False, use_gat=False)
    with pytest.raises(gl.InputError, match="pair="):
        ScTransNet(pair="bilinear")


def test_cell_branch_without_expression_features_raises(adata, truth, fast):
    with pytest.raises(gl.InputError, match="'expression'"):
        gl.tl.grn_fit(adata, truth, model="sctransnet", features=("celltype_means",), groupby="cell_type", **fast)


def test_attention_starts_at_mean_pooling_and_sums_to_one():
    z = torch.randn(6, 40)
    context = torch.from_numpy(cell_context(z.numpy(), 4))
    pool = AttentivePooling(z, context, d=8, heads=3, attention=True)
    genes = torch.tensor([0, 2, 5])
    weights = pool.cell_weights(genes)
    assert weights.shape == (3, 3, 40)
    torch.testing.assert_close(weights, torch.full_like(weights, 1 / 40))
    with torch.no_grad():
        pool.query_scale.bias.fill_(2.0)
    weights = pool.cell_weights(genes)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 3))
    assert torch.equal(weights[0, 0].argmax(), z[0].argmax())  # attends to where the gene is highest
    assert pool(genes).shape == (3, 8)


def test_batch_edges_are_hidden_in_both_directions():
    graph = torch.tensor([[0, 0, 1], [1, 2, 2]])
    edges = TrainingGraph(graph, 3, hide_batch_edges=True).message_edges(torch.tensor([0]), torch.tensor([2]), True)
    pairs = set(map(tuple, edges.T.tolist()))
    assert pairs == {(0, 1), (1, 0), (1, 2), (2, 1)}


def test_same_seed_gives_same_scores(adata, truth, fast):
    first = _scores(adata, truth, seed=3, **fast)
    second = _scores(adata.copy(), truth, seed=3, **fast)
    np.testing.assert_array_equal(first, second)


def test_scores_survive_h5ad(adata, truth, fast, tmp_path):
    before = _scores(adata, truth, **fast)
    adata.write_h5ad(tmp_path / "m.h5ad")
    after = gl.tl.grn_predict(ad.read_h5ad(tmp_path / "m.h5ad"))["score"].to_numpy()
    np.testing.assert_array_equal(before, after)


def test_graph_holds_training_positives_only(adata, truth, fast):
    split = gl.bm.split(truth, adata.var_names, seed=0)
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="sctransnet", **fast)
    graph = set(map(tuple, adata.uns["grn"]["state"]["graph"].T.tolist()))
    genes = np.asarray(adata.var_names)
    assert graph and graph <= _pair_set(split.prior, genes)
    assert not graph & _pair_set(split.exclude, genes)


def _held_out_tf_auroc(adata, split, model, **kwargs):
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model=model, seed=0, **kwargs)
    scores = gl.tl.grn_predict(adata, pairs=split.test)["score"].to_numpy()
    return gl.bm.evaluate(split.test, scores)["tf_auroc"]


@pytest.mark.slow
def test_beats_chance_and_correlation_on_held_out_simulated_edges(simulated):
    # measured: 0.698 here (0.716 +- 0.014 over split/fit seeds 0-2), pcc 0.611, degree control 0.349. signal=0 (the
    # data before issue 23): the co-targets show the network, TF-target correlation does not; at the default signal
    # pcc reaches 0.866 and sctransnet 0.716 does not beat it (see test_signal.py)
    adata = simulated(seed=0, signal=0.0)  # 500 genes, 50 TFs, 2000 cells
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    auroc = _held_out_tf_auroc(adata, split, "sctransnet", groupby="cell_type")
    pcc = _held_out_tf_auroc(adata, split, "pcc")
    print(f"sctransnet: held-out per-TF AUROC {auroc:.3f}, pcc {pcc:.3f}")
    assert auroc > 0.62
    assert auroc > pcc + 0.04


def test_pool_cells_pools_over_a_stored_subsample(adata, truth, fast, tmp_path):
    n_pooled = adata.n_obs // 3
    capped = _scores(adata, truth, pool_cells=n_pooled, **fast)
    rows = adata.uns["grn"]["state"]["pool_rows"]
    assert len(rows) == n_pooled and len(np.unique(rows)) == n_pooled and rows.max() < adata.n_obs
    adata.write_h5ad(tmp_path / "m.h5ad")
    reloaded = gl.tl.grn_predict(ad.read_h5ad(tmp_path / "m.h5ad"))["score"].to_numpy()
    np.testing.assert_array_equal(capped, reloaded)
    every_cell = _scores(adata.copy(), truth, pool_cells=None, **fast)
    assert not np.allclose(capped, every_cell)  # the subsample is what the branch reads


def test_pool_cells_leaves_data_with_fewer_cells_alone(adata, truth, fast):
    first = _scores(adata, truth, pool_cells=adata.n_obs, seed=1, **fast)
    assert "pool_rows" not in adata.uns["grn"]["state"]
    np.testing.assert_array_equal(first, _scores(adata.copy(), truth, pool_cells=None, seed=1, **fast))
