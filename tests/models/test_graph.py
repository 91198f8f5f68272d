"""Message passing over the training graph: exact neighbourhoods, neighbour sampling, and the epoch cap."""

import numpy as np
import pytest
import torch
from torch_geometric.nn import GATConv, GCNConv, SAGEConv
from torch_geometric.utils import to_undirected

import grnlink as gl
from grnlink._pairs import PairSet
from grnlink.models._graph import (
    AUTO_FANOUT,
    FULL_NEIGHBOURHOOD_EDGES,
    TrainingGraph,
    message_blocks,
    resolve_fanout,
    run_convs,
)
from grnlink.models._trainer import epoch_orders, train_module

N_NODES = 200


@pytest.fixture
def graph():
    torch.manual_seed(0)
    return to_undirected(torch.randint(0, N_NODES, (2, 600)), num_nodes=N_NODES)


def _layers(kind):
    torch.manual_seed(1)
    if kind == "gat":
        return [GATConv(16, 8, heads=3), GATConv(24, 8, heads=3, concat=False)]
    if kind == "sage":
        return [SAGEConv(16, 12), SAGEConv(12, 12)]
    return [GCNConv(16, 12), GCNConv(12, 12)]


def _whole_graph(convs, x, edges):
    """The plain PyG pass over every node (GCNConv normalising itself), the reference for run_convs."""
    h = x
    for i, conv in enumerate(convs):
        h = conv(h, edges)
        if i < len(convs) - 1:
            h = torch.relu(h)
    return h


@pytest.mark.parametrize("kind", ["gat", "gcn", "sage"])
def test_seed_neighbourhoods_give_the_whole_graph_outputs(graph, kind):
    convs = _layers(kind)
    x = torch.randn(N_NODES, 16)
    expected = _whole_graph(convs, x, graph)
    for conv in convs:
        if isinstance(conv, GCNConv):
            conv.normalize = False  # as scregnet builds it: run_convs passes the whole graph's normalisation
    seeds = torch.tensor([5, 77, 3, 150, 9])
    torch.testing.assert_close(run_convs(convs, x, graph, seeds, between=torch.relu), expected[seeds])
    torch.testing.assert_close(run_convs(convs, x, graph, between=torch.relu), expected)


def test_blocks_list_seeds_first_and_grow_by_hops(graph):
    seeds = torch.tensor([10, 4])
    blocks = message_blocks(graph, seeds, 2, N_NODES)
    assert torch.equal(blocks.nodes[:2], seeds)
    assert len(set(blocks.nodes.tolist())) == len(blocks.nodes) == blocks.sizes[-1]
    first_hop = set(graph[0, torch.isin(graph[1], seeds)].tolist()) | set(seeds.tolist())
    assert set(blocks.nodes[: blocks.sizes[1]].tolist()) == first_hop
    # the last layer computes the seeds only, over every edge into them
    assert int((blocks.edges[-1][1] < 2).sum()) == int(torch.isin(graph[1], seeds).sum())
    assert int(blocks.edges[-1][1].max()) < 2


@pytest.mark.slow
def test_sampling_caps_in_edges_and_keeps_weighted_sums_unbiased(graph):
    seeds = torch.arange(0, N_NODES, 7)
    weights = torch.rand(graph.shape[1])
    x = torch.randn(N_NODES)
    torch.manual_seed(3)
    sums = []
    for _ in range(400):
        blocks = message_blocks(graph, seeds, 1, N_NODES, weights, fanout=2)
        into = blocks.edges[0][1]
        assert torch.bincount(into).max() <= 2
        src = blocks.nodes[blocks.edges[0][0]]
        sums.append(torch.zeros(len(seeds)).index_add_(0, into, blocks.weights[0] * x[src]))
    exact = message_blocks(graph, seeds, 1, N_NODES, weights)
    src = exact.nodes[exact.edges[0][0]]
    expected = torch.zeros(len(seeds)).index_add_(0, exact.edges[0][1], exact.weights[0] * x[src])
    draws = torch.stack(sums)
    standard_error = draws.std(0) / len(draws) ** 0.5 + 1e-6
    assert ((draws.mean(0) - expected).abs() / standard_error).max() < 4.5
    # a fanout above every degree keeps every edge
    full = message_blocks(graph, seeds, 2, N_NODES, fanout=N_NODES)
    assert [e.shape[1] for e in full.edges] == [e.shape[1] for e in message_blocks(graph, seeds, 2, N_NODES).edges]


def test_auto_fanout_samples_only_large_graphs_and_never_when_scoring():
    assert resolve_fanout("auto", FULL_NEIGHBOURHOOD_EDGES) is None
    assert resolve_fanout("auto", FULL_NEIGHBOURHOOD_EDGES + 1) == AUTO_FANOUT
    assert resolve_fanout(None, 10**6) is None and resolve_fanout(5, 3) == 5
    training_graph = TrainingGraph(torch.tensor([[0, 1], [2, 3]]), 4, True, fanout=1)
    assert training_graph.fanout(True) == 1 and training_graph.fanout(False) is None


@pytest.mark.parametrize("model", ["sctransnet", "scregnet"])
def test_sampled_training_repeats_exactly_and_rejects_bad_fanout(adata, truth, fast, model):
    runs = []
    for _ in range(2):
        copy = adata.copy()
        gl.tl.grn_fit(copy, truth, model=model, groupby="cell_type", fanout=2, seed=1, **fast)
        runs.append(gl.tl.grn_predict(copy)["score"].to_numpy())
    np.testing.assert_array_equal(runs[0], runs[1])
    with pytest.raises(gl.InputError, match="fanout"):
        gl.tl.grn_fit(adata.copy(), truth, model=model, fanout=0, **fast)


def test_epoch_orders_visit_every_pair_once_per_pass():
    generator = torch.Generator().manual_seed(0)
    small = epoch_orders(5, 8, generator)
    assert sorted(next(small).tolist()) == list(range(5))
    capped = epoch_orders(10, 4, generator)
    visits = torch.cat([next(capped) for _ in range(5)])
    assert all(len(e) == 4 for e in visits.split(4))
    assert sorted(visits[:10].tolist()) == sorted(visits[10:].tolist()) == list(range(10))


class _CountingScorer(torch.nn.Module):
    """Logit = a learned weight per TF; records how many pairs each training call sees."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(50))
        self.seen: list[int] = []

    def forward(self, tf, gene):
        if self.training:
            self.seen.append(len(tf))
        return self.weight[tf]


def test_capped_epochs_train_on_epoch_pairs_and_validate_after_each():
    rng = np.random.default_rng(0)
    pairs = PairSet(rng.integers(0, 50, 300), rng.integers(0, 50, 300), rng.random(300) < 0.5)
    val = PairSet(rng.integers(0, 50, 40), rng.integers(0, 50, 40), rng.random(40) < 0.5)
    module = _CountingScorer()
    history = train_module(
        module, pairs, val, seed=0, lr=1e-2, weight_decay=0.0, batch_size=32, max_epochs=3, patience=5, epoch_pairs=64
    )
    assert module.seen == [32, 32] * 3
    assert len(history["val_auroc"]) == 3


def _rebuilt_without(graph, tf, gene, n_genes):
    """The undirected graph rebuilt from the directed training edges minus ``(tf, gene)``: the definition."""
    keep = ~torch.isin(graph[0] * n_genes + graph[1], tf * n_genes + gene)
    return to_undirected(graph[:, keep], num_nodes=n_genes)


@pytest.mark.parametrize("seed", range(5))
def test_hiding_batch_edges_equals_rebuilding_the_graph_without_them(seed):
    generator = torch.Generator().manual_seed(seed)
    n_genes, n_tfs = 300, 30
    directed = torch.stack(
        [torch.randint(0, n_tfs, (900,), generator=generator), torch.randint(0, n_genes, (900,), generator=generator)]
    )
    directed = torch.cat([directed, directed[:, :60].flip(0)], dim=1)  # some TF pairs regulate each other
    directed = torch.unique(directed[:, directed[0] != directed[1]], dim=1)
    training_graph = TrainingGraph(directed, n_genes, hide_batch_edges=True)
    picked = torch.randint(0, directed.shape[1], (100,), generator=generator)
    # the batch: training edges (some mutual, with or without their reverse) and pairs that are no edge
    tf = torch.cat([directed[0, picked], directed[1, :20], torch.randint(0, n_tfs, (40,), generator=generator)])
    gene = torch.cat([directed[1, picked], directed[0, :20], torch.randint(0, n_genes, (40,), generator=generator)])
    expected = _rebuilt_without(directed, tf, gene, n_genes)
    assert torch.equal(training_graph.message_edges(tf, gene, training=True), expected)
    assert torch.equal(training_graph.message_edges(tf, gene, training=False), training_graph.edge_index)
    assert expected.shape[1] < training_graph.edge_index.shape[1]
