"""The training graph as graph models see it: undirected edges, with the scored pairs' own edges hidden."""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.utils import to_undirected

from .._validation import InputError


def undirected_edges(graph: torch.Tensor, n_genes: int) -> torch.Tensor:
    """Both directions of every edge of ``graph`` (2 x E), duplicates removed; genes checked to exist."""
    graph = torch.as_tensor(graph, dtype=torch.long).reshape(2, -1)
    if graph.numel() and (int(graph.min()) < 0 or int(graph.max()) >= n_genes):
        raise InputError(f"the training graph names genes outside 0..{n_genes - 1}; refit the model on this AnnData.")
    return to_undirected(graph, num_nodes=n_genes)


def hide_pairs(graph: torch.Tensor, tf: torch.Tensor, gene: torch.Tensor, n_genes: int) -> torch.Tensor:
    """Undirected edge index of ``graph`` without the edges of the pairs ``(tf[i], gene[i])``."""
    keep = ~torch.isin(graph[0] * n_genes + graph[1], tf * n_genes + gene)
    return to_undirected(graph[:, keep], num_nodes=n_genes)


class TrainingGraph(nn.Module):
    """Holds the training positives (``graph``, directed) and their undirected ``edge_index``.

    Every training positive is an edge of the graph it is scored on, while a
    held-out positive never is; with ``hide_batch_edges`` the pairs being
    trained on lose their own edge, so that a network cannot learn to spot
    graph edges.
    """

    def __init__(self, graph: torch.Tensor, n_genes: int, hide_batch_edges: bool):
        super().__init__()
        # fixed per fitted model and rebuilt from the stored graph: not part of the state dict
        self.register_buffer("graph", torch.as_tensor(graph, dtype=torch.long).reshape(2, -1), persistent=False)
        self.register_buffer("edge_index", undirected_edges(self.graph, n_genes), persistent=False)
        self.n_genes = n_genes
        self.hide_batch_edges = hide_batch_edges

    def message_edges(self, tf: torch.Tensor, gene: torch.Tensor, training: bool) -> torch.Tensor:
        """The whole undirected graph, minus the scored pairs' own edges while training."""
        if training and self.hide_batch_edges:
            return hide_pairs(self.graph, tf, gene, self.n_genes)
        return self.edge_index
