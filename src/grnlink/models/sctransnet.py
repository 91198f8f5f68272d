"""``sctransnet``: attentive pooling over cells joined with a GAT over the training graph (paper 002).

scTransNet (paper 002) represents each gene twice. A
pre-trained single-cell transformer (scBERT) gives one representation of the
gene *per cell*; *attentive pooling* weights the cells by scBERT's attention
to the gene in each cell (normalised over cells) and sums, which yields one
context-aware vector per gene. A graph attention network (GAT) over the known
GRN, with the expression profile as node features, gives a second vector.
The two are concatenated, each gene of a pair goes through its own MLP
channel (one for the TF role, one for the target role), and a joint output
layer classifies the pair. Its ablations drop the GNN, the scBERT encoder, or
replace attentive pooling by mean pooling.

What this module computes, per call ``module(tf, gene)``:

1. **cell branch** (``use_cells``), for the unique genes of the call only.
   Each gene ``g`` becomes a set of ``n_cells`` tokens, one per cell ``n``:
   ``token[g, n] = [z[g, n] * c[n], c[n]]``, where ``z`` is the standardised
   per-cell expression (``features["expression"]``, genes x cells, at most
   ``max_cells`` cells) and ``c[n]`` is cell ``n``'s context, its coordinates on
   the ``cell_pcs`` leading principal axes of the expression (fixed, computed
   once at fit time and stored with the weights). Each of ``pool_heads`` heads
   has a learned query; its score of a token is a linear function of the token,
   ``s[h, g, n] = z[g, n] * a_h(c[n]) + b_h(c[n])`` (``a_h``, ``b_h`` linear
   in ``c[n]``), turned into per-gene attention weights by a softmax over
   cells. The attention-weighted token sums of all heads are projected to
   ``d`` dimensions (linear map, layer norm). ``use_attention=False`` gives
   every cell the weight ``1 / n_cells`` (mean pooling, the paper's ablation);
   the pooled vector is then a learned linear map of the gene's loadings on
   the cell axes, i.e. the expression principal components the other models
   read.
2. **graph branch** (``use_gat``): ``gat_layers`` PyG ``GATConv`` layers over
   the graph of the **training positives only**, made undirected for message
   passing, with self-loops; ELU and dropout between layers; heads concatenated
   between layers and averaged in the last. Node features are the gene's
   expression profile (as ``expression_pcs`` principal components) and the
   other feature groups. While training, the edges of the pairs being scored
   are hidden from message passing (``hide_batch_edges``), so that a positive
   cannot be recognised by its own edge, which held-out pairs never have.
3. gene representation = ``[pooled (1), other feature groups
   (celltype_means, embedding), GAT output (2)]``;
4. TF channel and target channel: MLPs of widths ``hidden`` (leaky ReLU and
   dropout between layers, the last layer linear), separate weights per role
   as in the paper and in GENELink, which its output layer comes from;
5. pair score: ``pair="dot"`` (default) is the dot product of the two channel
   outputs plus a learned offset, GENELink's default "similarity measurement";
   ``"concat"`` is a joint MLP (one hidden layer) over ``[tf, target]``,
   GENELink's "causal inference" head, and ``"concat_product"`` adds
   ``tf * target`` to its input.

Cost: the cell branch never builds the ``genes x cells x d`` token tensor.
Because tokens, keys and values are linear in ``[z * c, c]``, the pooled
vector of a head is ``[(A * z) @ c, A @ c]`` with ``A`` the ``genes x cells``
attention matrix, so one call costs ``O(heads * genes * cells * cell_pcs)``
for the genes of the batch (a few hundred of a training batch's 256 pairs),
with ``heads x genes x cells`` attention weights in memory. The GAT computes
each layer only for the genes the next layer reads (the batch's genes, their
neighbours, ...: :func:`grnlink.models._graph.run_convs`), which gives them
exactly the whole-graph outputs and keeps a genome-scale step small (the
step times before and after: ``benchmarks/results/design_checks.md``). Fit
times: ``benchmarks/results/models_mDC.md`` (BEELINE mDC),
``benchmarks/results/celltypes.md`` (three cell types) and
``benchmarks/results/scale.md`` (20,000 genes).

Defaults: ``d=64``, ``cell_pcs=32``, ``pool_heads=4``, ``gat_layers=2``,
``gat_hidden=64``, ``heads=3``, ``hidden=(128, 64)``, ``dropout=0.2``,
``pair="dot"``, ``lr=3e-3`` (the paper), ``weight_decay=1e-5``,
``max_epochs=100`` (the paper trains 100 iterations), ``patience=10``,
``batch_size=256``, ``n_ensemble=1``, ``expression_pcs=50``. The paper's GNN
has two layers of 256 and 128 units; here two ``GATConv`` layers of 64 units
per head with 3 heads (GENELink's head count). ``gat_hidden=128`` scored no
better on BEELINE mDC or on simulated data and trains slower
(``benchmarks/results/design_checks.md``).

Ablations (per-TF AUROC on held-out pairs of ``gl.bm.split``; defaults
against ``use_attention=False``, ``use_gat=False``, ``use_cells=False``,
``pair="concat"`` and the degree control, on simulated data and on BEELINE mDC
Non-Specific): ``benchmarks/results/design_checks.md``, and for mDC over five
seeds ``benchmarks/results/analysis.md``.

On simulated data the cell branch carries the signal and attention adds to
mean pooling; on mDC (383 cells) the graph branch does, and the cell branch
adds nothing over the graph and the time-point means. The concatenation head
mostly learns an additive per-gene score (how often a gene is a target),
which the per-TF split does not reward on simulated data; the dot product has
to match the TF to the target, hence the default.

Changes from the paper, and why:

- **no scBERT**: grnlink runs no foundation model. scBERT's token for gene ``g``
  in cell ``n`` is gene2vec(g) + an embedding of ``g``'s binned expression,
  contextualised by a Performer over all genes of the cell. Here the token is
  ``g``'s standardised value times the cell's context vector, plus the
  context: per-cell and cell-aware like scBERT's, but neither pre-trained nor
  contextualised by attention between genes, and without a gene identity
  part (gene identities let a network memorise training targets). Frozen
  foundation-model gene embeddings, when the user has them
  (``embedding_key``), join the representation as the ``embedding`` group;
- **learned attention**: scBERT's attention-sum vector is a by-product of the
  pre-trained model; here the per-gene attention over cells comes from learned
  queries and is trained end to end on the link labels. The queries start at
  zero, i.e. at mean pooling;
- GAT node features are the expression principal components (plus the other
  feature groups), not the raw count matrix, whose thousands of columns would
  outnumber the training pairs; the GAT is PyG's ``GATConv`` as is, not the
  paper's relational GAT with node-type and relation embeddings (the graph has
  one node and one edge type);
- the graph is built from the training positives only (see
  :func:`grnlink.models.training_graph`), and the scored pairs' own edges are
  hidden while training (see above);
- the two-class output is one logit (a softmax over two logits is the sigmoid
  of their difference); early stopping reads the validation pairs.

Examples
--------
>>> import grnlink as gl
>>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
>>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="sctransnet", groupby="cell_type", max_epochs=5)
>>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="sctransnet", use_gat=False, max_epochs=5)  # ablation
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv

from .._pairs import PairSet
from .._validation import BOOLEAN, FRACTION, POSITIVE_INT, POSITIVE_INTS, InputError, int_at_least, one_of, optional
from ._graph import GRAPH_DEFAULTS, GRAPH_SCHEMA, PAIR_KINDS, GraphPairNet, joined_pair, run_convs
from ._neural import NEURAL_DEFAULTS, NEURAL_SCHEMA, NeuralPredictor, shared_components
from ._registry import register
from ._trainer import TRAINER_SEARCH_SPACE

CELL_GROUP = "expression"
OTHER_GROUPS = ("celltype_means", "embedding")


def cell_context(z: np.ndarray, n_components: int) -> np.ndarray:
    """Cells x k coordinates of each cell on the leading principal axes of ``z`` (genes x cells).

    Each column is scaled to unit variance. ``k`` is ``n_components`` capped by
    the matrix rank bound ``min(genes, cells)``. The axes come from the
    eigensolve the fit's other models share (:func:`shared_components`).
    """
    k = max(1, min(int(n_components), *np.shape(z)))
    _, cell_axes = shared_components(z, k)
    scale = cell_axes.std(axis=0)
    return (cell_axes / np.where(scale > 0, scale, 1.0)).astype(np.float32)


def channel_mlp(n_in: int, widths: list[int], dropout: float) -> nn.Sequential:
    """Linear layers of ``widths``, leaky ReLU and dropout between them, the last one plain."""
    layers: list[nn.Module] = []
    for i, n_out in enumerate(widths):
        if i > 0:
            layers += [nn.LeakyReLU(), nn.Dropout(dropout)]
        layers.append(nn.Linear(n_in, n_out))
        n_in = n_out
    return nn.Sequential(*layers)


def pair_classifier(pair: str, width: int, dropout: float) -> nn.Module | None:
    """Joint layer over two channel outputs of ``width``: none for ``"dot"``, else an MLP with one hidden layer."""
    if pair == "dot":
        return None
    n_in = (3 if pair == "concat_product" else 2) * width
    return nn.Sequential(nn.Dropout(dropout), nn.Linear(n_in, width), nn.LeakyReLU(), nn.Linear(width, 1))


class AttentivePooling(nn.Module):
    """One ``d``-vector per gene pooled from its per-cell tokens ``[z[g, n] * c[n], c[n]]``.

    Head ``h`` scores cell ``n`` for gene ``g`` as ``z[g, n] * a_h(c[n]) + b_h(c[n])``
    (a learned query against a linear key of the token) and normalises over
    cells. The weighted token sums ``(A * z) @ c`` and ``A @ c`` of every head
    are projected to ``d``. Without attention every cell weighs ``1 / n_cells``.
    """

    def __init__(
        self,
        expression: torch.Tensor,
        context: torch.Tensor,
        *,
        d: int,
        heads: int,
        attention: bool,
        rows: torch.Tensor | None = None,
    ):
        super().__init__()
        self.register_buffer("expression", expression, persistent=False)  # restored from the stored features
        self.register_buffer("context", context)  # stored with the weights: reloaded models score identically
        self.register_buffer("rows", rows, persistent=False)  # the cells pooled over (None: every cell)
        k = context.shape[1]
        self.attention = attention
        self.heads = heads if attention else 1
        if attention:
            self.query_scale = nn.Linear(k, heads)
            self.query_shift = nn.Linear(k, heads, bias=False)
            for layer in (self.query_scale, self.query_shift):  # start at mean pooling
                nn.init.zeros_(layer.weight)
            nn.init.zeros_(self.query_scale.bias)
        n_pooled = self.heads * (2 * k if attention else k)
        self.value = nn.Sequential(nn.Linear(n_pooled, d), nn.LayerNorm(d))

    def tokens(self, genes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The pooled cells' expression of ``genes`` (genes x cells) and their context (cells x k)."""
        if self.rows is None:
            return self.expression[genes], self.context
        return self.expression[genes][:, self.rows], self.context[self.rows]

    def cell_weights(self, genes: torch.Tensor) -> torch.Tensor:
        """Attention of each head over the pooled cells for ``genes`` (heads x genes x cells, rows sum to 1)."""
        return self._weights(*self.tokens(genes))

    def _weights(self, z: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        if not self.attention:
            return z.new_full((1, *z.shape), 1.0 / z.shape[1])
        scale = self.query_scale(context).T[:, None, :]  # heads x 1 x cells
        shift = self.query_shift(context).T[:, None, :]
        return torch.softmax(z[None] * scale + shift, dim=-1)

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        z, context = self.tokens(genes)
        weights = self._weights(z, context)
        parts = [(weights * z[None]) @ context]
        if self.attention:
            parts.append(weights @ context)
        pooled = torch.cat(parts, dim=-1).permute(1, 0, 2).reshape(len(genes), -1)
        return self.value(pooled)


class GATEncoder(nn.Module):
    """``n_layers`` ``GATConv`` layers, heads concatenated between layers and averaged in the last."""

    def __init__(self, n_in: int, hidden: int, n_layers: int, heads: int, dropout: float):
        super().__init__()
        self.dropout = dropout
        self.convs = nn.ModuleList()
        for i in range(n_layers):
            last = i == n_layers - 1
            self.convs.append(GATConv(n_in, hidden, heads=heads, concat=not last))
            n_in = hidden * heads

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, genes: torch.Tensor | None = None, fanout: int | None = None
    ) -> torch.Tensor:
        """Output for ``genes`` (distinct; every gene when None), over their (sampled) neighbourhoods only."""
        return run_convs(self.convs, x, edge_index, genes, between=self.between_layers, fanout=fanout)

    def between_layers(self, h: torch.Tensor) -> torch.Tensor:
        return F.dropout(F.elu(h), self.dropout, training=self.training)


class ScTransNetNet(GraphPairNet):
    """Cell branch + other features + GAT branch per gene, one MLP channel per role, joint classifier."""

    def __init__(
        self,
        node_features: torch.Tensor,
        other: torch.Tensor,
        expression: torch.Tensor | None,
        context: torch.Tensor | None,
        graph: torch.Tensor,
        n_genes: int,
        *,
        use_cells: bool,
        pool_rows: torch.Tensor | None,
        use_attention: bool,
        use_gat: bool,
        d: int,
        pool_heads: int,
        gat_layers: int,
        gat_hidden: int,
        heads: int,
        hidden: list[int],
        dropout: float,
        pair: str,
        hide_batch_edges: bool,
        fanout: int | str | None,
    ):
        super().__init__(node_features, graph, n_genes, hide_batch_edges, fanout)
        self.register_buffer("other", other, persistent=False)
        self.pair = pair
        self.pool = None
        if use_cells:
            self.pool = AttentivePooling(
                expression, context, d=d, heads=pool_heads, attention=use_attention, rows=pool_rows
            )
        self.gat = None
        if use_gat:
            self.gat = GATEncoder(node_features.shape[1], gat_hidden, gat_layers, heads, dropout)
        n_rep = (d if use_cells else 0) + other.shape[1] + (gat_hidden if use_gat else 0)
        self.tf_channel = channel_mlp(n_rep, hidden, dropout)
        self.target_channel = channel_mlp(n_rep, hidden, dropout)
        self.offset = nn.Parameter(torch.zeros(())) if pair == "dot" else None
        self.classifier = pair_classifier(pair, hidden[-1], dropout)

    def batch_edges(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor | None:
        """The graph without the batch's own edges while training (None without the GAT branch)."""
        return super().batch_edges(tf, gene) if self.gat is not None else None

    def encode(self, genes: torch.Tensor, edge_index: torch.Tensor | None) -> torch.Tensor:
        """``[pooled cells, other feature groups, GAT output]`` for ``genes``."""
        parts = []
        if self.pool is not None:
            parts.append(self.pool(genes))
        if self.other.shape[1]:
            parts.append(self.other[genes])
        if self.gat is not None:
            parts.append(self.gat(self.features, edge_index, genes, self.training_graph.fanout(self.training)))
        return torch.cat(parts, dim=1)

    def gene_representations(self) -> torch.Tensor:
        """Every gene through the target channel, over the whole training graph (genes x last channel width)."""
        genes = torch.arange(self.n_genes)
        return self.target_channel(self.encode(genes, self.training_graph.edge_index if self.gat is not None else None))

    def logit_matrix(self, tf: torch.Tensor, chunk: int = 2048) -> torch.Tensor | None:
        """Logits of the TFs ``tf`` against every gene (eval mode) for ``pair="dot"``; ``None`` otherwise.

        Every gene's representation is computed once (the cell pooling ``chunk``
        genes at a time, to bound its genes x cells attention weights), then one
        matrix product of the two channels' outputs.
        """
        if self.pair != "dot":
            return None
        parts = []
        if self.pool is not None:
            parts.append(torch.cat([self.pool(genes) for genes in torch.arange(self.n_genes).split(chunk)]))
        if self.other.shape[1]:
            parts.append(self.other)
        if self.gat is not None:
            parts.append(self.gat(self.features, self.training_graph.edge_index))
        rep = torch.cat(parts, dim=1)
        return self.tf_channel(rep[tf]) @ self.target_channel(rep).T + self.offset

    def pair_logits(self, tf_code: torch.Tensor, gene_code: torch.Tensor) -> torch.Tensor:
        tf_vec, gene_vec = self.tf_channel(tf_code), self.target_channel(gene_code)
        if self.pair == "dot":
            return (tf_vec * gene_vec).sum(dim=1) + self.offset
        return self.classifier(joined_pair(tf_vec, gene_vec, self.pair)).squeeze(-1)


def check_options(params: dict[str, Any]) -> None:
    """Raise :class:`InputError` for option combinations the network cannot be built with.

    Each option's own type and range are checked by :attr:`ScTransNet.schema`.
    """
    if not (params["use_cells"] or params["use_gat"]):
        raise InputError(
            "sctransnet needs at least one branch: use_cells=True (attentive pooling over cells) "
            "and/or use_gat=True (graph attention over the training graph)."
        )


@register
class ScTransNet(NeuralPredictor):
    """scTransNet (paper 002): attentive pooling over cells + GAT over the training graph, joint classifier.

    The graph is the training positives only; see the module docstring for the
    architecture and what differs from the paper (no scBERT: per-cell tokens
    are built from the standardised expression and a cell context).

    Options (``gl.tl.grn_fit(..., model="sctransnet", **options)``):

    ``use_cells`` (True), ``use_attention`` (True), ``use_gat`` (True)
        Ablation switches: drop the cell branch (graph and other feature groups
        only); replace attentive by mean pooling over cells; drop the GAT
        branch. At least one of ``use_cells`` and ``use_gat`` must stay on.
    ``d`` (64), ``cell_pcs`` (32), ``pool_heads`` (4)
        Width of the pooled gene vector; principal axes describing each cell
        (the token's context); attention heads of the pooling.
    ``pool_cells`` (1024)
        The cell branch pools over at most this many of the fit's cells (a
        seeded subsample, stored with the model; ``None``: every cell). Its
        cost grows with the cells pooled (more than linearly past about a
        thousand: the attention weights leave the CPU caches); none of the
        shared BEELINE data sets has more than 889 cells, so they pool over
        every cell either way; forced down to 256 cells there, held-out
        per-TF AUROC stayed within 0.006 on all six networks
        (``benchmarks/results/auto_rules_pool_cells.md``). Scoring within cell groups
        (``gl.tl.grn_predict(..., groupby=...)``) pools over each group's own cells.
    ``gat_layers`` (2), ``gat_hidden`` (64), ``heads`` (3)
        Number of ``GATConv`` layers, their width per head, and GAT heads.
    ``hidden`` ((128, 64))
        Widths of the TF and target channels (one MLP per role, the last layer linear).
    ``pair`` ("dot")
        Pair score from the two channel outputs: ``"dot"`` (dot product plus a
        learned offset, GENELink's default), ``"concat"`` (joint MLP over
        ``[tf, target]``) or ``"concat_product"`` (over ``[tf, target, tf * target]``).
    ``hide_batch_edges`` (True)
        Hide the scored pairs' own edges from message passing while training.
    ``fanout`` ("auto")
        Neighbours each gene reads per GNN layer while training (``None``: every
        one; an integer: that many, sampled); see :func:`grnlink.models._graph.resolve_fanout`.
    ``dropout`` (0.2), ``lr`` (3e-3), ``weight_decay`` (1e-5)
        Dropout in the GAT, the channels and the pair classifier; Adam's learning rate and L2 penalty.
    ``batch_size`` (256), ``max_epochs`` (100), ``patience`` (10), ``epoch_pairs`` (16,384)
        Trainer settings (early stopping on validation AUROC; see :func:`grnlink.models.train_module`).
    ``n_ensemble`` (1), ``expression_pcs`` (50), ``expression_scaling`` ("component")
        Members averaged; principal components of expression used as GAT node
        features (the cell branch always reads the per-cell values), and their scale
        (:func:`grnlink.models._neural.expression_components`).

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="sctransnet", use_attention=False, max_epochs=5)
    >>> adata.uns["grn"]["state"]["graph"].shape[0]
    2
    """

    name = "sctransnet"
    paper = "002: scTransNet, GRN inference from a pre-trained single-cell transformer with joint graph learning"
    uses_graph = True
    gene_positions = ("graph",)
    per_group = True
    defaults = {
        **NEURAL_DEFAULTS,
        **GRAPH_DEFAULTS,
        "lr": 3e-3,
        "weight_decay": 1e-5,
        "use_cells": True,
        "use_attention": True,
        "use_gat": True,
        "d": 64,
        "cell_pcs": 32,
        "pool_heads": 4,
        "gat_layers": 2,
        "gat_hidden": 64,
        "heads": 3,
        "hidden": (128, 64),
        "dropout": 0.2,
        "pair": "dot",
        "pool_cells": 1024,
    }
    schema = {
        **NEURAL_SCHEMA,
        **GRAPH_SCHEMA,
        "use_cells": BOOLEAN,
        "use_attention": BOOLEAN,
        "use_gat": BOOLEAN,
        "d": POSITIVE_INT,
        "cell_pcs": POSITIVE_INT,
        "pool_heads": POSITIVE_INT,
        "gat_layers": POSITIVE_INT,
        "gat_hidden": POSITIVE_INT,
        "heads": POSITIVE_INT,
        "hidden": POSITIVE_INTS,
        "dropout": FRACTION,
        "pair": one_of(*PAIR_KINDS),
        "pool_cells": optional(int_at_least(2)),
    }
    search_space = {
        **TRAINER_SEARCH_SPACE,
        "dropout": ("float", 0.0, 0.5),
        "d": ("categorical", [32, 64, 128]),
        "gat_layers": ("int", 1, 3),
        "pair": ("categorical", ["dot", "concat", "concat_product"]),
    }

    def __init__(self, **params: Any):
        super().__init__(**params)
        check_options(self.params)
        self.n_other = 0
        self._stored_context: np.ndarray | None = None
        self.pool_rows: np.ndarray | None = None  # the fit's cells the cell branch pools over (None: every one)

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        return (CELL_GROUP,) if self.params["use_cells"] and CELL_GROUP in groups else ()

    def for_cells(self, features: dict[str, np.ndarray], cells: np.ndarray) -> ScTransNet:
        """The cell branch pools over the given cells (their expression, standardised over them, and their rows
        of the stored cell context); the graph branch and the other feature groups stay the fit's."""
        if not self.params["use_cells"]:
            raise NotImplementedError("sctransnet with use_cells=False reads no per-cell expression when it scores")
        expression = torch.from_numpy(np.ascontiguousarray(features[CELL_GROUP], dtype=np.float32))
        rows = torch.from_numpy(np.asarray(cells, dtype=np.int64))
        within = copy.copy(self)
        within.features = {**self.features, CELL_GROUP: features[CELL_GROUP]}
        within.members = []
        for member in self.members:
            member = copy.deepcopy(member)
            member.pool.expression = expression
            member.pool.context = member.pool.context[rows]
            member.pool.rows = None  # a group pools over every one of its own cells
            within.members.append(member)
        return within

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        self.n_other = _other_width(features)
        n_cells = np.shape(features[CELL_GROUP])[1] if CELL_GROUP in features else 0
        self.pool_rows = pooled_cells(n_cells, self.params["pool_cells"], seed)
        return super().fit(features, train, val, n_genes=n_genes, seed=seed)

    def get_state(self) -> dict[str, Any]:
        # the other groups are stored inside the network inputs only: their width says where they start
        state = {**super().get_state(), "n_other": np.int64(self.n_other)}
        if self.pool_rows is not None:
            state["pool_rows"] = self.pool_rows
        return state

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.n_other = int(state["n_other"]) if "n_other" in state else _other_width(features)  # format < 3
        self.pool_rows = np.asarray(state["pool_rows"], dtype=np.int64) if "pool_rows" in state else None
        # the cell context is stored with the weights: a reloaded model need not solve for it again
        first = state["members"].get("member0", {})
        self._stored_context = np.asarray(first["pool.context"], dtype=np.float32) if "pool.context" in first else None
        try:
            super().set_state(features, state, n_genes=n_genes)
        finally:
            self._stored_context = None

    def build(self, features: torch.Tensor, n_genes: int) -> nn.Module:
        p = self.params
        use_cells, use_gat = bool(p["use_cells"]), bool(p["use_gat"])
        other = features[:, features.shape[1] - self.n_other :]
        expression = context = None
        if use_cells:
            if CELL_GROUP not in self.features:
                raise InputError(
                    "sctransnet's cell branch needs the 'expression' feature group; include it in features= "
                    "or pass use_cells=False."
                )
            expression = torch.from_numpy(np.ascontiguousarray(self.features[CELL_GROUP], dtype=np.float32))
            stored = self._stored_context
            context = torch.from_numpy(
                stored if stored is not None else cell_context(self.features[CELL_GROUP], int(p["cell_pcs"]))
            )
        if use_gat and features.shape[1] == 0:
            raise InputError("the GAT branch needs node features; include 'expression' or another feature group.")
        return ScTransNetNet(
            features,
            other,
            expression,
            context,
            torch.from_numpy(self.graph),
            n_genes,
            use_cells=use_cells,
            pool_rows=torch.from_numpy(self.pool_rows) if use_cells and self.pool_rows is not None else None,
            use_attention=bool(p["use_attention"]),
            use_gat=use_gat,
            d=int(p["d"]),
            pool_heads=int(p["pool_heads"]),
            gat_layers=int(p["gat_layers"]),
            gat_hidden=int(p["gat_hidden"]),
            heads=int(p["heads"]),
            hidden=[int(h) for h in p["hidden"]],
            dropout=float(p["dropout"]),
            pair=str(p["pair"]),
            hide_batch_edges=bool(p["hide_batch_edges"]),
            fanout=p["fanout"],
        )

    def n_parameters(self, features: dict[str, np.ndarray], n_genes: int) -> int:
        """Number of trainable parameters of one member built on ``features``."""
        self.features, self.n_other = features, _other_width(features)
        return super().n_parameters(features, n_genes)


def pooled_cells(n_cells: int, pool_cells: int | None, seed: int) -> np.ndarray | None:
    """Sorted positions of the ``pool_cells`` cells (of ``n_cells``) the cell branch pools over, the same for the
    same seed; ``None`` (every cell) when there are no more than that."""
    if pool_cells is None or n_cells <= pool_cells:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_cells, size=pool_cells, replace=False)).astype(np.int64)


def _other_width(features: dict[str, np.ndarray]) -> int:
    """Columns of the feature groups other than per-cell expression (they close the network inputs)."""
    return sum(np.shape(features[g])[1] for g in OTHER_GROUPS if g in features)
