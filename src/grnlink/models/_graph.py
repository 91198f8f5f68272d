"""The training graph as graph models see it: undirected edges, with the scored pairs' own edges hidden."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_undirected

from .._validation import BOOLEAN, POSITIVE_INT, InputError, any_of, one_of

# "auto" neighbour sampling: every neighbour up to this many training edges (every fit of the BEELINE
# benchmarks fits under it: their training priors hold at most 5,963 edges), AUTO_FANOUT sampled neighbours
# per gene and layer above (genome-scale priors, including the stack's half-data fold fits of DoRothEA A-D,
# ~13,000 edges: see benchmarks/scale.py)
FULL_NEIGHBOURHOOD_EDGES = 8_192
AUTO_FANOUT = 10
FANOUT = any_of(one_of("auto", None), POSITIVE_INT)
#: how a pair network joins a TF's and a target's vectors: dot product, or a classifier over the concatenation
PAIR_KINDS = ("dot", "concat", "concat_product")
#: options every model that passes messages over the training graph has
GRAPH_DEFAULTS = {"hide_batch_edges": True, "fanout": "auto"}
GRAPH_SCHEMA = {"hide_batch_edges": BOOLEAN, "fanout": FANOUT}


def resolve_fanout(fanout: int | str | None, n_edges: int) -> int | None:
    """Neighbours sampled per gene and layer while training (None: every one) for the option ``fanout``.

    ``None``: every neighbour; an integer: that many drawn at random per step
    (neighbour sampling as in GraphSAGE and PyG's ``NeighborLoader``; GCN
    weights rescaled to stay unbiased); ``"auto"``: every one up to
    :data:`FULL_NEIGHBOURHOOD_EDGES` (8,192) training edges, every BEELINE
    benchmark fit, and :data:`AUTO_FANOUT` (10) above, on genome-scale priors,
    where it makes a training step about 3x cheaper. Scoring always reads
    every neighbour.
    """
    if fanout == "auto":
        return None if n_edges <= FULL_NEIGHBOURHOOD_EDGES else AUTO_FANOUT
    return None if fanout is None else int(fanout)


def undirected_edges(graph: torch.Tensor, n_genes: int) -> torch.Tensor:
    """Both directions of every edge of ``graph`` (2 x E), duplicates removed; genes checked to exist."""
    graph = torch.as_tensor(graph, dtype=torch.long).reshape(2, -1)
    if graph.numel() and (int(graph.min()) < 0 or int(graph.max()) >= n_genes):
        raise InputError(f"the training graph names genes outside 0..{n_genes - 1}; refit the model on this AnnData.")
    return to_undirected(graph, num_nodes=n_genes)


class TrainingGraph(nn.Module):
    """Holds the training positives (``graph``, directed) and their undirected ``edge_index``.

    Every training positive is an edge of the graph it is scored on, while a
    held-out positive never is; with ``hide_batch_edges`` the pairs being
    trained on lose their own edge, so that a network cannot learn to spot
    graph edges.
    """

    def __init__(self, graph: torch.Tensor, n_genes: int, hide_batch_edges: bool, fanout: int | str | None = None):
        super().__init__()
        # fixed per fitted model and rebuilt from the stored graph: not part of the state dict
        self.register_buffer("graph", torch.as_tensor(graph, dtype=torch.long).reshape(2, -1), persistent=False)
        self.register_buffer("edge_index", undirected_edges(self.graph, n_genes), persistent=False)
        self.n_genes = n_genes
        keys, entries, reverse = hiding_index(self.graph, self.edge_index, n_genes)
        self.register_buffer("hide_keys", keys, persistent=False)
        self.register_buffer("hide_entries", entries, persistent=False)
        self.register_buffer("hide_reverse", reverse, persistent=False)
        self.hide_batch_edges = hide_batch_edges
        self.training_fanout = resolve_fanout(fanout, self.graph.shape[1])

    def fanout(self, training: bool) -> int | None:
        """Neighbours sampled per gene and layer: the training setting while training, every one when scoring."""
        return self.training_fanout if training else None

    def message_edges(self, tf: torch.Tensor, gene: torch.Tensor, training: bool) -> torch.Tensor:
        """The whole undirected graph, minus the scored pairs' own edges while training.

        The same edges, in the same order, as rebuilding the undirected graph
        from the training edges other than the pairs', but found by masking
        the stored one (:func:`kept_entries`), which a training step can
        afford at genome scale: an undirected edge stays while some direction
        of it is a training edge that is not hidden.
        """
        if not (training and self.hide_batch_edges):
            return self.edge_index
        hidden = tf * self.n_genes + gene
        kept = kept_entries(self.hide_keys, self.hide_entries, self.hide_reverse, self.edge_index.shape[1], hidden)
        return self.edge_index[:, kept]


def hiding_index(
    graph: torch.Tensor, edge_index: torch.Tensor, n_genes: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Where each directed training edge sits in the undirected edge index, to hide pairs without rebuilding it.

    Returns ``keys``: the directed edges' keys ``source * n_genes + target``, sorted;
    ``entries`` (2 x edges): for each of them, in that order, its two
    positions in the undirected (coalesced, hence key-sorted) ``edge_index``,
    one per direction; ``reverse``: the position in ``keys`` of the opposite
    directed edge, -1 when the graph lacks it.
    """
    keys = torch.unique(graph[0] * n_genes + graph[1])
    source, target = keys // n_genes, keys % n_genes
    undirected = edge_index[0] * n_genes + edge_index[1]
    forward = torch.searchsorted(undirected, source * n_genes + target)
    backward = torch.searchsorted(undirected, target * n_genes + source)
    return keys, torch.stack([forward, backward]), _positions(keys, target * n_genes + source)


def kept_entries(
    keys: torch.Tensor, entries: torch.Tensor, reverse: torch.Tensor, n_entries: int, pair_keys: torch.Tensor
) -> torch.Tensor:
    """Mask of the ``n_entries`` undirected entries that stay when the directed edges ``pair_keys`` are hidden.

    An undirected edge goes when every direction of it that the graph holds is
    hidden (``keys``, ``entries``, ``reverse``: :func:`hiding_index`); pairs that are no edge change nothing.
    """
    mask = torch.ones(n_entries, dtype=torch.bool, device=pair_keys.device)
    hidden = _positions(keys, pair_keys)
    hidden = torch.unique(hidden[hidden >= 0])
    if not len(hidden):
        return mask
    opposite = reverse[hidden]
    opposite_stays = (opposite >= 0) & ~torch.isin(opposite, hidden)
    mask[entries[:, hidden[~opposite_stays]].reshape(-1)] = False
    return mask


def _positions(sorted_keys: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """Position of each query in ``sorted_keys`` (distinct, ascending), -1 where absent."""
    if not len(sorted_keys):
        return torch.full_like(queries, -1)
    at = torch.searchsorted(sorted_keys, queries).clamp(max=len(sorted_keys) - 1)
    return torch.where(sorted_keys[at] == queries, at, -1)


def joined_pair(tf_vec: torch.Tensor, gene_vec: torch.Tensor, pair: str) -> torch.Tensor:
    """A pair classifier's input: ``[tf, gene]``, and ``tf * gene`` after them for ``pair="concat_product"``."""
    return torch.cat([tf_vec, gene_vec] + ([tf_vec * gene_vec] if pair == "concat_product" else []), dim=1)


class GraphPairNet(nn.Module, ABC):
    """A network that encodes genes over the training graph and scores ``(tf, gene)`` pairs from their codes.

    Subclasses say how genes are encoded (:meth:`encode`) and how two codes
    make a logit (:meth:`pair_logits`); a batch encodes each of its distinct
    genes once, over the graph without the batch's own edges while training.
    ``features`` (genes x d node inputs) and the graph are rebuilt from the
    stored fit, so neither is part of the state dict.
    """

    def __init__(
        self,
        features: torch.Tensor,
        graph: torch.Tensor,
        n_genes: int,
        hide_batch_edges: bool,
        fanout: int | str | None,
    ):
        super().__init__()
        self.register_buffer("features", features, persistent=False)
        self.training_graph = TrainingGraph(graph, n_genes, hide_batch_edges, fanout)
        self.n_genes = n_genes

    def batch_edges(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor | None:
        """Edges the batch's genes are encoded over (see :class:`TrainingGraph`)."""
        return self.training_graph.message_edges(tf, gene, self.training)

    @abstractmethod
    def encode(self, genes: torch.Tensor | None, edge_index: torch.Tensor | None) -> torch.Tensor:
        """Codes of ``genes`` (distinct; every gene when None) over ``edge_index``."""

    @abstractmethod
    def pair_logits(self, tf_code: torch.Tensor, gene_code: torch.Tensor) -> torch.Tensor:
        """One logit per row pair of a TF's and a target's codes."""

    def forward(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor:
        genes, position = torch.unique(torch.cat([tf, gene]), return_inverse=True)
        code = self.encode(genes, self.batch_edges(tf, gene))
        # index_select's backward adds repeated rows in a fixed order: the same seed gives the same weights
        return self.pair_logits(code.index_select(0, position[: len(tf)]), code.index_select(0, position[len(tf) :]))


class MessageBlocks(NamedTuple):
    """What ``n_layers`` rounds of message passing read to compute the outputs of some seed nodes.

    ``nodes`` lists the global ids of every node involved, seeds first, then
    the nodes one hop out, then two hops out, and so on; ``sizes[k]`` counts
    the nodes within ``k`` hops (``sizes[0]`` is the number of seeds). Layer
    ``i`` (from the input side) computes the first ``sizes[n_layers - 1 - i]``
    nodes from the first ``sizes[n_layers - i]``, over ``edges[i]``: the edges
    into those nodes in local ids (positions in ``nodes``), with their
    ``weights[i]`` when the graph is weighted.
    """

    nodes: torch.Tensor
    sizes: list[int]
    edges: list[torch.Tensor]
    weights: list[torch.Tensor | None]


def sample_in_edges(edge_index: torch.Tensor, mask: torch.Tensor, fanout: int) -> tuple[torch.Tensor, torch.Tensor]:
    """At most ``fanout`` of the ``mask``-ed edges into each node, drawn uniformly (torch's global RNG).

    Returns the mask of the kept edges and, per kept edge, its node's number
    of candidate edges over the number kept (the factor that makes a weighted
    sum over the kept edges an unbiased estimate of the sum over all of them).
    """
    candidates = mask.nonzero().squeeze(1)
    targets = edge_index[1, candidates]
    shuffled = torch.randperm(len(candidates))
    by_target = shuffled[torch.argsort(targets[shuffled], stable=True)]
    _, counts = torch.unique_consecutive(targets[by_target], return_counts=True)
    starts = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
    chosen = (torch.arange(len(by_target)) - starts) < fanout
    kept = torch.zeros_like(mask)
    kept[candidates[by_target[chosen]]] = True
    per_edge = torch.repeat_interleave(counts / counts.clamp(max=fanout), counts)[chosen]
    scale = torch.ones(len(mask))
    scale[candidates[by_target[chosen]]] = per_edge.float()
    return kept, scale[kept]


def message_blocks(
    edge_index: torch.Tensor,
    seeds: torch.Tensor,
    n_layers: int,
    n_nodes: int,
    weights: torch.Tensor | None = None,
    fanout: int | None = None,
) -> MessageBlocks:
    """The layered neighbourhood of ``seeds`` (distinct node ids) in ``edge_index`` (messages flow row 0 -> row 1).

    Computing each layer only for the nodes the next layer reads gives the
    seeds exactly the outputs a pass over the whole graph gives them, at a
    cost that follows the neighbourhood instead of the graph. With ``fanout``,
    each node reads at most that many of its in-edges per layer, drawn at
    random (GraphSAGE's neighbour sampling, as PyG's ``NeighborLoader``); edge
    ``weights`` are then scaled so that weighted sums stay unbiased.
    """
    local = torch.full((n_nodes,), -1, dtype=torch.long)
    local[seeds] = torch.arange(len(seeds))
    nodes, sizes, into, scales = [seeds], [len(seeds)], [], []
    for _ in range(n_layers):
        mask = local[edge_index[1]] >= 0  # every node placed so far lies within this many hops
        scale = None
        if fanout is not None:
            mask, scale = sample_in_edges(edge_index, mask, fanout)
        scales.append(scale)
        sources = edge_index[0, mask]
        new = torch.unique(sources[local[sources] < 0])
        local[new] = torch.arange(sizes[-1], sizes[-1] + len(new))
        nodes.append(new)
        sizes.append(sizes[-1] + len(new))
        into.append(mask)
    layers = list(zip(into, scales))[::-1]  # the input layer reads the widest neighbourhood
    return MessageBlocks(
        nodes=torch.cat(nodes),
        sizes=sizes,
        edges=[local[edge_index[:, m]] for m, _ in layers],
        weights=[None if weights is None else weights[m] * (1 if c is None else c) for m, c in layers],
    )


def run_convs(
    convs: Sequence[nn.Module],
    x: torch.Tensor,
    edge_index: torch.Tensor,
    seeds: torch.Tensor | None = None,
    between: Callable[[torch.Tensor], torch.Tensor] | None = None,
    fanout: int | None = None,
) -> torch.Tensor:
    """PyG convolutions ``convs`` applied in turn to node features ``x``, ``between`` after all but the last.

    Returns the last layer's output for ``seeds`` (distinct node ids, in their
    order), or for every node when ``seeds`` is None. Only the seeds'
    ``len(convs)``-hop neighbourhood is computed (:func:`message_blocks`), so a
    training batch costs what its genes' neighbourhoods cost, not the whole
    graph, or with ``fanout`` a sample of it (see :func:`message_blocks`).
    Supports ``GATConv`` and ``SAGEConv`` (bipartite calls, which add
    the seeds' self-loops and root terms themselves) and ``GCNConv`` built with
    ``normalize=False``, given here the symmetric normalisation of the whole
    graph with self-loops, as ``GCNConv`` computes it by default.
    """
    n_nodes = x.shape[0]
    weights = None
    if any(isinstance(conv, GCNConv) for conv in convs):
        edge_index, weights = gcn_norm(edge_index, None, n_nodes, add_self_loops=True)
    if seeds is None:
        seeds = torch.arange(n_nodes)
    blocks = message_blocks(edge_index, seeds, len(convs), n_nodes, weights, fanout)
    h = x[blocks.nodes]
    for i, conv in enumerate(convs):
        n_dst = blocks.sizes[len(convs) - 1 - i]
        if isinstance(conv, GCNConv):
            h = conv(h, blocks.edges[i], blocks.weights[i])[:n_dst]
        else:
            h = conv((h, h[:n_dst]), blocks.edges[i])
        if between is not None and i < len(convs) - 1:
            h = between(h)
    return h
