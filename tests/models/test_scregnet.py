"""scregnet (paper 003): fits with every GNN kind, beats chance, round-trips, and its graph never leaks."""

import anndata as ad
import numpy as np
import pytest
import torch

import grnlink as gl
from grnlink.models.scregnet import ScRegNetNet

GNN_KINDS = ["gcn", "gat", "sage"]


def _keys(frame):
    return set(zip(frame["source"], frame["target"]))


def _held_out_tf_auroc(simulated, seed: int, gnn: str) -> tuple[float, float]:
    """Per-TF AUROC of scregnet and of the degree control on the held-out pairs of simulated data set ``seed``."""
    adata = simulated(seed=seed)  # the default size: 500 genes, 50 TFs, 2000 cells
    split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=seed)
    gl.tl.grn_fit(
        adata, split.prior, **split.fit_kwargs(), model="scregnet", gnn=gnn, groupby="cell_type", max_epochs=40
    )
    scores = gl.tl.grn_predict(adata, pairs=split.test)["score"].to_numpy()
    degree = gl.bm.degree_scores(split.prior, split.test)
    return gl.bm.evaluate(split.test, scores)["tf_auroc"], gl.bm.evaluate(split.test, degree)["tf_auroc"]


@pytest.mark.parametrize("gnn", GNN_KINDS)
@pytest.mark.slow
def test_scregnet_beats_chance_on_held_out_edges(simulated, gnn):
    # scRegNet is weak on the simulated data (its classifier adds a TF and a gene term), so one data set's
    # result sits within seed noise of 0.5; measured over data/split seeds 0-2 (mean): gcn 0.525, gat 0.565,
    # sage 0.660; degree control 0.364 (pcc 0.866 on seed 0: scregnet does not read the TF-target correlation
    # that the default signal puts in the data; before issue 23, signal=0: gcn 0.534, gat 0.561, sage 0.646)
    tf_auroc, degree = np.mean([_held_out_tf_auroc(simulated, seed, gnn) for seed in range(3)], axis=0)
    print(f"scregnet gnn={gnn}: per-TF AUROC {tf_auroc:.3f}, degree control {degree:.3f} (mean of 3 data sets)")
    assert tf_auroc > 0.5
    assert tf_auroc > degree + 0.1


@pytest.mark.parametrize("gnn", GNN_KINDS)
def test_scregnet_same_seed_same_scores(adata, truth, fast, gnn):
    runs = []
    for _ in range(2):
        copy = adata.copy()
        gl.tl.grn_fit(copy, truth, model="scregnet", gnn=gnn, groupby="cell_type", seed=3, **fast)
        runs.append(gl.tl.grn_predict(copy)["score"].to_numpy())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_scregnet_scores_survive_h5ad(adata, truth, fast, tmp_path):
    gl.tl.grn_fit(adata, truth, model="scregnet", gnn="gat", groupby="cell_type", **fast)
    before = gl.tl.grn_predict(adata)["score"].to_numpy()
    adata.write_h5ad(tmp_path / "scregnet.h5ad")
    reloaded = ad.read_h5ad(tmp_path / "scregnet.h5ad")
    np.testing.assert_array_equal(reloaded.uns["grn"]["state"]["graph"], adata.uns["grn"]["state"]["graph"])
    after = gl.tl.grn_predict(reloaded)["score"].to_numpy()
    np.testing.assert_array_equal(before, after)


def test_scregnet_graph_holds_exactly_the_training_positives(adata, truth, fast, monkeypatch):
    from grnlink.tl import _fit

    seen = {}
    original = _fit._training_pairs

    def spy(*args, **kwargs):
        seen["train"], seen["val"] = original(*args, **kwargs)
        return seen["train"], seen["val"]

    monkeypatch.setattr(_fit, "_training_pairs", spy)
    split = gl.bm.split(truth, adata.var_names, seed=1)
    gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="scregnet", groupby="cell_type", **fast)

    genes = np.asarray(adata.var_names)
    graph = adata.uns["grn"]["state"]["graph"]
    in_graph = set(zip(genes[graph[0]], genes[graph[1]]))
    train, val = seen["train"], seen["val"]
    positives = train.label == 1
    assert in_graph == set(zip(genes[train.tf[positives]], genes[train.gene[positives]]))
    assert val.n_pos > 0
    assert not in_graph & set(zip(genes[val.tf[val.label == 1]], genes[val.gene[val.label == 1]]))
    assert not in_graph & _keys(split.exclude)
    assert in_graph == _keys(split.prior), "validation pairs come from the split, not from the prior"


def test_scregnet_hides_a_batch_s_own_edges_only_while_training():
    features = torch.randn(4, 3)
    graph = torch.tensor([[0, 0, 1], [1, 2, 3]])
    net = ScRegNetNet(
        features,
        graph,
        4,
        gnn="gcn",
        gnn_layers=1,
        gnn_hidden=8,
        heads=1,
        hidden=[4],
        dropout=0.0,
        pair="concat",
        hide_batch_edges=True,
        fanout=None,
    )
    tf, gene = torch.tensor([0, 0]), torch.tensor([1, 3])  # one edge of the graph, one non-edge
    net.train()
    edges = set(map(tuple, net.batch_edges(tf, gene).T.tolist()))
    assert edges == {(0, 2), (2, 0), (1, 3), (3, 1)}
    net.eval()
    assert net.batch_edges(tf, gene).shape[1] == 6  # every edge, both directions


def test_scregnet_pair_modes_change_the_classifier():
    features = {"expression": np.zeros((10, 4), np.float32)}
    concat = gl.models.get_model_class("scregnet")(pair="concat").n_parameters(features, 10)
    product = gl.models.get_model_class("scregnet")(pair="concat_product").n_parameters(features, 10)
    assert product - concat == 64  # one more 64-wide block into the single output unit


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"gnn": "gin"}, "gcn"),
        ({"pair": "dot"}, "concat"),
        ({"gnn_layers": 0}, "gnn_layers"),
        ({"hidden": ()}, "hidden"),
    ],
)
def test_scregnet_rejects_bad_options_naming_the_fix(adata, truth, option, match):
    with pytest.raises(gl.InputError, match=match):
        gl.tl.grn_fit(adata, truth, model="scregnet", max_epochs=1, **option)
