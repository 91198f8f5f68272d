import numpy as np
import pytest
import torch
from torch import nn

import grnlink as gl


def test_effective_rank_of_known_spectra():
    rng = np.random.default_rng(0)
    line = np.outer(rng.normal(size=50), rng.normal(size=8))
    assert gl.bm.effective_rank(line) == pytest.approx(1.0, abs=1e-6)
    q, _ = np.linalg.qr(rng.normal(size=(50, 8)))
    spread = q - q.mean(axis=0)
    assert gl.bm.effective_rank(spread) > 7.0
    assert gl.bm.effective_rank(np.zeros((5, 3))) == 0.0


def test_pruning_silences_the_weakest_hidden_units_only():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Linear(10, 2))
    norms_before = net[0].weight.norm(dim=1).clone()
    output_before = net[3].weight.clone()
    assert gl.bm.prune_hidden_units(net, 0.3) == 3
    weakest = torch.argsort(norms_before)[:3]
    assert torch.all(net[0].weight[weakest] == 0) and torch.all(net[1].weight[weakest] == 0)
    assert torch.equal(net[3].weight, output_before), "the output layer is never pruned"
    net.eval()
    hidden = net[2](net[1](net[0](torch.randn(16, 4))))
    assert torch.all(hidden[:, weakest] == 0), "a pruned unit's activation is zero for every input"


@pytest.mark.parametrize("model", ["cross_encoder", "dual_encoder", "two_tower"])
def test_prune_stores_a_copy_and_degrades_gracefully(adata, truth, fast, model):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", **fast)
    split = gl.bm.split(truth, adata.var_names, seed=0)
    state_before = {k: v.copy() for k, v in adata.uns["grn"]["state"]["members"]["member0"].items()}
    curve = gl.bm.pruning_curve(adata, split.test, fractions=(0.0, 0.5, 0.9))
    assert list(curve["fraction"]) == [0.0, 0.5, 0.9]
    assert curve["auroc"].iloc[0] != curve["auroc"].iloc[2]
    for name, value in adata.uns["grn"]["state"]["members"]["member0"].items():
        np.testing.assert_array_equal(value, state_before[name])
    assert set(adata.uns) == {"true_network", "simulate", "log1p", "grn"}
    key = gl.bm.prune(adata, 0.5)
    reloaded = gl.tl.grn_predict(adata, key=key, pairs=split.test)["score"]
    assert reloaded.notna().all() and key == "grn_pruned50"


@pytest.mark.parametrize("model", ["cross_encoder", "dual_encoder", "two_tower", "scregnet", "sctransnet"])
def test_representation_rank_is_between_one_and_the_width(adata, truth, fast, model):
    gl.tl.grn_fit(adata, truth, model=model, groupby="cell_type", **fast)
    reps = gl.bm.gene_representations(adata)
    assert reps[0].shape[0] == adata.n_vars
    rank = gl.bm.representation_rank(adata)
    assert 1.0 <= rank <= reps[0].shape[1]


def test_representations_of_a_model_without_them_raise(adata, truth, fast):
    gl.tl.grn_fit(adata, truth, model="gnt", **{**fast, "max_epochs": 2})
    with pytest.raises(gl.InputError, match="does not expose"):
        gl.bm.gene_representations(adata)
