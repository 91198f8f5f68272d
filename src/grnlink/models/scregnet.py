"""``scregnet``: a GNN over the training graph joined with frozen gene features (paper 003).

scRegNet (Kommu et al., bioRxiv 2024.12.16.628715, v2 2025) represents each
gene twice: a graph neural network (GCN by default; GAT and GraphSAGE are
options) encodes the gene's place in the known TF→target graph, and a frozen
single-cell foundation model (scBERT, Geneformer, scFoundation) gives a
context-aware gene embedding. The two are concatenated (paper eq. 5), passed
through one MLP shared by all genes, and a pair ``(i, j)`` is classified from
the concatenation ``[MLP(z_i), MLP(z_j)]`` by a fully connected layer with a
two-class softmax (eq. 6), trained with binary cross-entropy.

What this module computes, per call ``module(tf, gene)``:

1. node features ``x`` = the model's gene inputs (expression principal
   components, cell-type means, scFM embeddings: whatever feature groups
   ``gl.tl.grn_fit`` built, stacked);
2. ``h = GNN(x, G)`` over the graph ``G`` of the **training positives only**
   (:func:`grnlink.models.training_graph`), messages passed both ways (each
   TF→target edge made undirected), with the self-loops each PyG conv adds by
   default; ReLU and dropout between layers, none after the last (as in the
   authors' code);
3. ``z = MLP([x, h])`` for every gene: ``x`` enters again unchanged (the
   frozen part, never trained); linear layers with leaky ReLU, dropout
   between them;
4. ``logit = Linear([z[tf], z[gene]])`` (``pair="concat"``, the paper), or
   ``Linear([z[tf], z[gene], z[tf] * z[gene]])`` (``pair="concat_product"``).

A training batch runs the GNN and the MLP for its own genes only: each GNN
layer is computed for the genes the next layer reads (the batch's genes, their
neighbours, ...: :func:`grnlink.models._graph.run_convs`), which gives them
exactly the outputs of a pass over the whole graph.

Defaults are the authors' code defaults (github.com/sindhura-cs/scRegNet,
``src/args.py``): 2 GNN layers of width 256, 3 GAT heads, a 2-layer MLP of
width 64, dropout 0.2, learning rate 5e-4, weight decay 1e-5, batch size 256.
The paper tunes all of these per dataset with Optuna (Supplementary Table S2);
we keep the untuned defaults, which are small enough to train on BEELINE
TFs+500 on a CPU (fit times: ``benchmarks/results/models_mDC.md`` and
``benchmarks/results/celltypes.md``).

Changes from the paper, and why:

- no scFM runs inside grnlink: the frozen foundation-model part is whatever
  gene embeddings the user stored in ``adata.varm[embedding_key]`` (e.g. with
  :func:`grnlink.pp.gene_embeddings`). The paper's GNN reads expression and only
  the scFM embedding bypasses it; here every feature group both feeds the GNN
  and bypasses it, so that the model works with or without embeddings;
- the graph holds the training positives only; validation, test and excluded
  pairs never enter it. (The authors' GENELink-style script also selects its
  checkpoint on the test pairs; early stopping here reads validation pairs.)
- ``hide_batch_edges=True``: while training, each batch's own pairs are removed
  from the message-passing graph. Otherwise every training positive is an edge
  of the graph it is scored on while every held-out positive is not, and the
  network learns to recognise graph edges: on simulated data, held-out edges
  then score below chance (per-TF AUROC with and without hiding:
  ``benchmarks/results/design_checks.md``). ``hide_batch_edges=False`` is the
  paper's setting;
- with ``pair="concat"`` the classifier is one linear layer, so the logit is
  ``a(tf) + b(gene)``: every TF ranks the candidate targets in the same order,
  by a learned "targetness" of the gene. This is the paper's eq. 6 and the
  default; ``pair="concat_product"`` adds the element-wise product (as in
  ``cross_encoder``), which lets the ranking depend on the TF. On BEELINE mDC
  Non-Specific the paper's form stays at the degree control and the product
  form edges above it (per-TF split, both forms and the control over five
  seeds: ``benchmarks/results/analysis.md``);
- the two-class softmax is one logit (a softmax over two logits is the
  sigmoid of their difference);
- dropout is off at prediction time (the authors' MLP applies it always);
- GAT is PyG's ``GATConv`` with ReLU between layers, each layer concatenating
  ``heads`` heads of ``gnn_hidden // heads`` features (cost of one head),
  instead of the authors' dense attention layer (heads concatenated, averaged
  in the last layer, ELU).

Scores of prior edges seen in training are computed with their edge in the
graph, so they are higher than a held-out edge would get; compare held-out
pairs only (``gl.bm.split`` and ``exclude=``).

Examples
--------
>>> import grnlink as gl
>>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
>>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="scregnet", gnn="sage", groupby="cell_type", max_epochs=5)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, GCNConv, SAGEConv

from .._validation import FRACTION, POSITIVE_INT, POSITIVE_INTS, InputError, one_of
from ._graph import GRAPH_DEFAULTS, GRAPH_SCHEMA, PAIR_KINDS, GraphPairNet, joined_pair, run_convs
from ._neural import NEURAL_DEFAULTS, NEURAL_SCHEMA, NeuralPredictor
from ._registry import register
from ._trainer import TRAINER_SEARCH_SPACE

GNN_KINDS = ("gcn", "gat", "sage")
PAIR_MODES = PAIR_KINDS[1:]  # the paper's classifier reads the concatenation: no "dot"


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`InputError` naming the valid values when ``value`` is not one of ``choices`` (the shared rule)."""
    one_of(*choices).check(option, value, owner="model 'scregnet'")


def graph_layers(kind: str, n_in: int, n_hidden: int, n_layers: int, heads: int) -> tuple[nn.ModuleList, int]:
    """``n_layers`` PyG convolutions of kind ``kind`` on ``n_in`` input features, and their output width.

    GCN and GraphSAGE layers are ``n_hidden`` wide. A GAT layer concatenates
    ``heads`` heads of ``n_hidden // heads`` features, so that attention costs
    about as much as one ``n_hidden``-wide head.
    """
    check_choice("gnn", kind, GNN_KINDS)
    if n_layers < 1 or heads < 1 or n_hidden < heads:
        raise InputError(
            f"gnn_layers and heads must be >= 1 and gnn_hidden >= heads, got {n_layers}, {heads} and {n_hidden}; "
            "e.g. gnn_layers=2, gnn_hidden=256, heads=3."
        )
    layers = nn.ModuleList()
    for _ in range(n_layers):
        if kind == "gcn":
            layers.append(GCNConv(n_in, n_hidden, normalize=False))  # run_convs normalises over the whole graph
        elif kind == "sage":
            layers.append(SAGEConv(n_in, n_hidden))
        else:
            layers.append(GATConv(n_in, n_hidden // heads, heads=heads))
        n_in = n_hidden if kind != "gat" else (n_hidden // heads) * heads
    return layers, n_in


def gene_mlp(n_in: int, hidden: list[int], dropout: float) -> nn.Sequential:
    """The MLP applied to every gene: linear layers with leaky ReLU, dropout between them."""
    if not hidden:
        raise InputError("hidden must name at least one MLP width, e.g. hidden=(64, 64).")
    layers: list[nn.Module] = []
    for i, n_out in enumerate(hidden):
        if i > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Linear(n_in, n_out), nn.LeakyReLU()]
        n_in = n_out
    return nn.Sequential(*layers)


class ScRegNetNet(GraphPairNet):
    """GNN over the fixed training graph, frozen inputs concatenated, shared gene MLP, pair classifier."""

    def __init__(
        self,
        features: torch.Tensor,
        graph: torch.Tensor,
        n_genes: int,
        *,
        gnn: str,
        gnn_layers: int,
        gnn_hidden: int,
        heads: int,
        hidden: list[int],
        dropout: float,
        pair: str,
        hide_batch_edges: bool,
        fanout: int | str | None,
    ):
        n_features = features.shape[1]
        if n_features == 0:
            raise InputError(
                "scregnet needs node features but no feature group was built; "
                "use features=('expression',) or pass groupby= / embedding_key=."
            )
        super().__init__(features, graph, n_genes, hide_batch_edges, fanout)
        self.dropout = dropout
        self.convs, n_graph = graph_layers(gnn, n_features, gnn_hidden, gnn_layers, heads)
        self.gene_mlp = gene_mlp(n_features + n_graph, hidden, dropout)
        check_choice("pair", pair, PAIR_MODES)
        self.pair = pair
        self.classifier = nn.Linear((3 if pair == "concat_product" else 2) * hidden[-1], 1)

    def between_layers(self, h: torch.Tensor) -> torch.Tensor:
        return F.dropout(F.relu(h), self.dropout, training=self.training)

    def encode(self, genes: torch.Tensor | None, edge_index: torch.Tensor) -> torch.Tensor:
        """Shared MLP over ``[frozen inputs, GNN output]`` for ``genes`` (distinct; every gene when None).

        The GNN runs over the genes' neighbourhoods only (:func:`run_convs`).
        """
        fanout = self.training_graph.fanout(self.training)
        graph = run_convs(self.convs, self.features, edge_index, genes, between=self.between_layers, fanout=fanout)
        frozen = self.features if genes is None else self.features[genes]
        return self.gene_mlp(torch.cat([frozen, graph], dim=1))

    def gene_representations(self) -> torch.Tensor:
        """Every gene's vector ``z`` over the whole training graph (genes x last MLP width)."""
        return self.encode(None, self.training_graph.edge_index)

    def logit_matrix(self, tf: torch.Tensor) -> torch.Tensor:
        """Logits of the TFs ``tf`` against every gene (eval mode): the graph encoded once, the linear
        classifier split into its TF, target and product parts."""
        z = self.gene_representations()
        width = z.shape[1]
        weight, bias = self.classifier.weight[0], self.classifier.bias[0]
        logits = (z[tf] @ weight[:width])[:, None] + (z @ weight[width : 2 * width])[None, :] + bias
        if self.pair == "concat_product":
            logits = logits + (z[tf] * weight[2 * width :]) @ z.T
        return logits

    def pair_logits(self, tf_code: torch.Tensor, gene_code: torch.Tensor) -> torch.Tensor:
        return self.classifier(joined_pair(tf_code, gene_code, self.pair)).squeeze(-1)


@register
class ScRegNet(NeuralPredictor):
    """scRegNet (paper 003): GNN over the training graph + frozen gene features, shared MLP, pair classifier.

    The graph is the training positives only; see the module docstring for the
    architecture and what differs from the paper.

    Options (``gl.tl.grn_fit(..., model="scregnet", **options)``):

    ``gnn`` ("gcn")
        Graph encoder: ``"gcn"`` (``GCNConv``, the paper's choice), ``"gat"``
        (``GATConv``) or ``"sage"`` (``SAGEConv``), from PyTorch Geometric.
    ``gnn_layers`` (2), ``gnn_hidden`` (256)
        Number and width of the graph convolutions.
    ``heads`` (3)
        Attention heads per GAT layer (ignored by the other kinds).
    ``hidden`` ((64, 64))
        Widths of the MLP shared by all genes; the classifier reads its output for the TF and the gene.
    ``pair`` ("concat")
        ``"concat"``: one linear layer on ``[tf, gene]`` (the paper; TF and gene
        terms add up, so every TF ranks genes alike). ``"concat_product"``: on
        ``[tf, gene, tf * gene]``, a TF-specific ranking.
    ``hide_batch_edges`` (True)
        Remove each training batch's own pairs from the message-passing graph,
        so that training positives, like held-out ones, are not graph edges when
        scored. ``False`` is the paper's setting, which learns to spot graph edges.
    ``fanout`` ("auto")
        Neighbours each gene reads per GNN layer while training (``None``: every
        one; an integer: that many, sampled); see :func:`grnlink.models._graph.resolve_fanout`.
    ``dropout`` (0.2), ``lr`` (5e-4), ``weight_decay`` (1e-5), ``batch_size`` (256), ``max_epochs``, ``patience``
        Trainer settings (Adam with L2 penalty, early stopping on validation AUROC), and ``epoch_pairs``.
    ``n_ensemble`` (1), ``expression_pcs`` (50), ``expression_scaling`` ("component")
        Members averaged; principal components of per-cell expression used as node features, and their
        scale (:func:`grnlink.models._neural.expression_components`).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="scregnet", gnn="gat", groupby="cell_type", max_epochs=5)
    >>> adata.uns["grn"]["state"]["graph"].shape[0]
    2
    """

    name = "scregnet"
    paper = "003: scRegNet, joint single-cell foundation models and graph-based learning for GRN link prediction"
    uses_graph = True
    gene_positions = ("graph",)
    defaults = {
        **NEURAL_DEFAULTS,
        **GRAPH_DEFAULTS,
        "lr": 5e-4,
        "weight_decay": 1e-5,
        "gnn": "gcn",
        "gnn_layers": 2,
        "gnn_hidden": 256,
        "heads": 3,
        "hidden": (64, 64),
        "dropout": 0.2,
        "pair": "concat",
    }
    schema = {
        **NEURAL_SCHEMA,
        **GRAPH_SCHEMA,
        "gnn": one_of(*GNN_KINDS),
        "gnn_layers": POSITIVE_INT,
        "gnn_hidden": POSITIVE_INT,
        "heads": POSITIVE_INT,
        "hidden": POSITIVE_INTS,
        "dropout": FRACTION,
        "pair": one_of(*PAIR_MODES),
    }
    search_space = {
        **TRAINER_SEARCH_SPACE,
        "dropout": ("float", 0.0, 0.5),
        "gnn": ("categorical", ["gcn", "gat", "sage"]),
        "gnn_layers": ("int", 1, 3),
        "gnn_hidden": ("categorical", [64, 128, 256]),
    }

    def build(self, features: torch.Tensor, n_genes: int) -> nn.Module:
        p = self.params
        return ScRegNetNet(
            features,
            torch.from_numpy(self.graph),
            n_genes,
            gnn=str(p["gnn"]),
            gnn_layers=int(p["gnn_layers"]),
            gnn_hidden=int(p["gnn_hidden"]),
            heads=int(p["heads"]),
            hidden=[int(h) for h in p["hidden"]],
            dropout=float(p["dropout"]),
            pair=str(p["pair"]),
            hide_batch_edges=bool(p["hide_batch_edges"]),
            fanout=p["fanout"],
        )
