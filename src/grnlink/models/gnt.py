"""``gnt``: GeneNet Transformer, gene tokens through a transformer, Hadamard edges, SVM (paper 004).

GeneNet Transformer (Sadhu, BS-MS thesis, IISER Bhopal/Pune, 2024) learns a
``d``-dimensional embedding per gene in three phases:

1. each gene's token is its one-hot identity projected to ``d`` plus its
   expression projected to ``d`` and weighted by ``alpha``; two transformer
   encoder layers turn the tokens into gene embeddings ``H``, trained to predict
   each gene's network neighbours;
2. the edge embedding of a pair is the Hadamard (element-wise) product
   ``H[tf] * H[gene]``;
3. a scikit-learn SVM is trained on the training pairs' edge embeddings and
   labels; the pair's score is its decision function.

What this module computes:

- tokens ``t_g = E[g] + alpha * W x_g``: ``E`` is an ``nn.Embedding`` (a one-hot
  vector through a linear layer is exactly a row lookup; its rows start as
  ``nn.Linear(n_genes, d)`` would initialise them), ``x_g`` the gene's network
  inputs (the stacked feature groups; per-cell expression enters as its leading
  ``expression_pcs`` principal components). The sequence is the set of all
  genes, so that self-attention weighs every gene against every other
  ("dynamically weighs the interactions between nodes", section 4.1); there is
  no positional encoding since a set has no order;
- ``H = TransformerEncoder(t)`` with ``n_layers`` post-norm
  ``nn.TransformerEncoderLayer`` (``n_heads`` heads, feed-forward width
  ``feedforward``, ``dropout`` on the residual and feed-forward paths);
- neighbour prediction as pair classification: ``logit(tf, gene) =
  sum_k w_k H[tf, k] H[gene, k] / sqrt(d) + b``, a learned diagonal bilinear head
  on the very Hadamard product the SVM later reads, trained with binary
  cross-entropy by the shared trainer (:func:`grnlink.models.train_module`) on
  the training positives against the training negatives that ``grn_fit``
  sampled, early-stopping on the validation pairs;
- after training, ``H`` is computed once (eval mode) and stored; the SVM is fit
  on ``H[tf] * H[gene]`` of the **training** pairs (``class_weight="balanced"``,
  ``random_state=seed``). Its state is kept as plain arrays and the decision
  function is evaluated with numpy (:func:`svm_decision`), so that a model read
  back from h5ad scores bit for bit the same;
- with ``n_ensemble > 1``, each member (transformer + SVM) gets its own seed and
  the members' decision functions are averaged.

A training step over every gene costs ``O(n_genes^2 d)`` whatever the batch
size: quick for the few hundred to few thousand genes of BEELINE-style data,
slow at genome scale. Above 4,096 genes (``context="auto"``) a step's sequence
is the batch's genes plus randomly drawn ones, 2,048 tokens in all, which makes
a step ``O(2048^2 d)``; validation, the stored embeddings and scoring still
attend over every gene, one pass each. Measured step, pass and fit times:
``benchmarks/results/scale.md`` (the fit at 20,000 genes, and a step over every
gene) and ``benchmarks/results/design_checks.md`` (BEELINE, the sampled context).

Options and defaults: ``d`` (64), ``n_heads`` (4), ``n_layers`` (2),
``feedforward`` (256), ``dropout`` (0.1), ``attention_dropout`` (0.0), ``alpha``
(1.0), ``svm_kernel`` ("auto"), ``svm_c`` (1.0), ``context`` ("auto"), ``lr`` (5e-3), ``batch_size``
(1024), ``weight_decay`` (0), ``max_epochs`` (60), ``patience`` (10),
``n_ensemble`` (3), ``expression_pcs`` (50).

Changes from the paper, and why (the checks behind the defaults, with their
figures, are in ``benchmarks/results/design_checks.md``):

- **no leak**: the transformer learns to predict each gene's connections to
  all other genes (section 4.1), read from the adjacency matrix of the whole
  network (section 5.2); the thesis says of the SVM alone that it uses the
  training split (section 4.3). Test edges then shape the embeddings that the
  SVM classifies, which fits the near-perfect scores reported (AUROC and AUPRC
  mostly 0.92-0.98; scGREAT's AUPRC on the same data is 0.18-0.95). Here the
  transformer sees only the training pairs ``grn_fit`` gives it (prior edges
  minus ``exclude``, and negatives that never include excluded pairs) and the
  validation pairs only for early stopping; the SVM sees only the training pairs;
- neighbour prediction is binary cross-entropy on (TF, target) pairs instead of
  a softmax over all genes with 10 uniformly drawn negatives per positive: the
  negatives are ``grn_fit``'s (``negatives``, ``negative_ratio``; TF-matched by
  default), the loop is the shared trainer's, and the output layer is a
  diagonal bilinear head, which matches the Hadamard edge embedding the SVM
  reads (a per-gene output layer as in GNE would keep part of what it learns,
  e.g. a gene's popularity as a target, out of ``H`` and away from the SVM);
- identity and expression projections are summed (section 4.1) rather than
  concatenated to ``2d`` (the abstract); ``d`` is 64 (the paper: 128) and the
  feed-forward width ``4 d`` (PyTorch's default: 2048) to keep a fit well within a
  minute on two CPU cores;
- no dropout on the attention weights by default: any attention dropout
  forces PyTorch's unfused attention, several times slower on a CPU;
- ``batch_size`` 1024 and ``lr`` 5e-3 instead of 256 and 2e-3: a step costs the
  same for any batch size (all genes are encoded), so larger batches cut the
  number of steps and the fit time; on BEELINE mDC the per-TF AUROC did not
  drop. Early stopping on validation AUROC (patience 10) replaces a fixed 30
  epochs;
- identity rows start small, as ``nn.Linear(n_genes, d)`` starts (the paper's
  fully connected layer), not at ``nn.Embedding``'s unit normal, which starts
  them far larger than the expression term; on BEELINE mDC small rows scored
  higher;
- three members by default: single members' per-TF AUROC on BEELINE mDC varied
  across seeds, and averaging three gained a little;
- the SVM kernel is not stated in the paper; up to 16,384 training pairs
  (every BEELINE fit) the default is scikit-learn's ``SVC`` default, RBF with
  ``gamma="scale"`` (computed and stored as a number); above, ``LinearSVC``
  (``svm_kernel="auto"``): an RBF SVM on a genome-scale prior's ~50,000
  training pairs keeps a share of them as support vectors, each read for
  every one of the millions of pairs scored, while the linear one
  factorises into one matrix product; class weights are balanced so that
  ``negative_ratio != 1`` does not shift the boundary; the score is the
  decision function, not the 0/1 label;
- the whole genome as one attention sequence while training is not
  affordable on a CPU at 20,000 genes: see ``context`` above. The thesis
  trains on BEELINE data sets (the 500 or 1,000 most variable genes and
  their TFs), where the default keeps every gene in every sequence.

Examples
--------
>>> import grnlink as gl
>>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
>>> gl.tl.grn_fit(adata, adata.uns["true_network"], model="gnt", groupby="cell_type", max_epochs=5)
>>> edges = gl.tl.grn_predict(adata, top_k=20)
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from sklearn.svm import SVC, LinearSVC
from torch import nn

from .._pairs import PairSet
from .._validation import (
    FRACTION,
    NON_NEGATIVE_NUMBER,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    InputError,
    any_of,
    int_at_least,
    one_of,
)
from ._device import tensors_on
from ._neural import _MEMBER_SEED_STRIDE, NEURAL_DEFAULTS, NEURAL_SCHEMA, NeuralPredictor
from ._registry import register
from ._trainer import TRAINER_SEARCH_SPACE

SVM_KERNELS = ("rbf", "linear")
# "auto" rules for genome scale, each checked on BEELINE by benchmarks/auto_rules.py --study gnt
# (benchmarks/results/auto_rules_gnt.md): every BEELINE data set (at most ~1,700 genes, ~12,000 training
# pairs) keeps full attention and the RBF kernel
FULL_CONTEXT_GENES = 4_096  # up to this many genes, every training step attends over every gene
AUTO_CONTEXT = 2_048  # tokens per training sequence above it
RBF_TRAINING_PAIRS = 16_384  # up to this many training pairs the SVM is RBF, above it linear
_KERNEL_CHUNK_ELEMENTS = 1 << 22  # pairs x support vectors per block of the RBF decision function


class GeneTokenTransformer(nn.Module):
    """Transformer encoder over gene tokens, scored by a diagonal bilinear head.

    ``module(tf, gene)`` encodes the genes as one sequence and returns
    ``sum_k w_k H[tf, k] H[gene, k] / sqrt(d) + b`` per pair. In eval mode,
    and in training when ``context`` is ``None`` or covers every gene, the
    sequence is every gene; otherwise a training step's sequence is the
    batch's genes plus genes drawn at random (torch's global RNG) up to
    ``context`` tokens (see :func:`context_genes`).
    """

    def __init__(
        self,
        features: torch.Tensor,
        n_genes: int,
        *,
        d: int,
        n_heads: int,
        n_layers: int,
        feedforward: int,
        dropout: float,
        attention_dropout: float,
        alpha: float,
        context: int | None = None,
    ):
        super().__init__()
        self.register_buffer("features", features, persistent=False)
        self.alpha = alpha
        self.n_genes = n_genes
        self.context = context
        self.identity = nn.Embedding(n_genes, d)
        # a one-hot vector through nn.Linear(n_genes, d): the same rows, initialised as that layer would be
        bound = 1.0 / math.sqrt(n_genes)
        nn.init.uniform_(self.identity.weight, -bound, bound)
        self.expression = nn.Linear(features.shape[1], d) if features.shape[1] > 0 else None
        layer = nn.TransformerEncoderLayer(d, n_heads, feedforward, dropout, batch_first=True)
        layer.self_attn.dropout = attention_dropout  # > 0 forces PyTorch's unfused attention, slower on CPU
        self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.head_weight = nn.Parameter(torch.ones(d))
        self.head_bias = nn.Parameter(torch.zeros(()))
        self.scale = 1.0 / math.sqrt(d)

    def tokens(self, genes: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens of ``genes`` (every gene when ``None``): identity embedding plus ``alpha`` x projected expression."""
        # index_select, not advanced indexing: its backward is deterministic on several CPU threads
        out = self.identity.weight if genes is None else self.identity.weight.index_select(0, genes)
        if self.expression is not None:
            features = self.features if genes is None else self.features.index_select(0, genes)
            out = out + self.alpha * self.expression(features)
        return out

    def embed(self, genes: torch.Tensor | None = None) -> torch.Tensor:
        """Embeddings ``H`` of ``genes`` (every gene when ``None``): their tokens encoded as one sequence."""
        with mha_fastpath(False):
            return self.encoder(self.tokens(genes).unsqueeze(0)).squeeze(0)

    def forward(self, tf: torch.Tensor, gene: torch.Tensor) -> torch.Tensor:
        if self.training and self.context is not None and self.context < self.n_genes:
            sequence, slot = context_genes(tf, gene, self.n_genes, self.context)
            h, tf, gene = self.embed(sequence), slot[tf], slot[gene]
        else:
            h = self.embed()
        edges = h.index_select(0, tf) * h.index_select(0, gene)
        return (edges * self.head_weight).sum(-1) * self.scale + self.head_bias


@contextmanager
def mha_fastpath(enabled: bool) -> Iterator[None]:
    """Turn PyTorch's inference fast path of transformer layers on or off, restoring the caller's setting.

    On a CPU the fast path (eval mode, no gradients) encoded a long sequence
    of gene tokens several times slower than the regular path, and the two
    agree to about 1e-6; the timings are in ``benchmarks/results/design_checks.md``.
    """
    previous = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(enabled)
    try:
        yield
    finally:
        torch.backends.mha.set_fastpath_enabled(previous)


def context_genes(
    tf: torch.Tensor, gene: torch.Tensor, n_genes: int, context: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """A training step's sequence: the batch's genes, then others drawn uniformly until ``context`` tokens.

    Returns the sequence (gene positions) and ``slot``, each gene's position
    in it (-1 for genes left out). When the batch alone holds ``context``
    genes or more, the sequence is the batch's genes. Draws from torch's
    global RNG, which the trainer seeds.
    """
    batch = torch.unique(torch.cat([tf, gene]))
    n_drawn = max(context - len(batch), 0)
    if n_drawn:
        outside = torch.ones(n_genes, dtype=torch.bool)
        outside[batch] = False
        others = torch.nonzero(outside).squeeze(1)
        batch = torch.cat([batch, others[torch.randperm(len(others))[:n_drawn]]])
    slot = torch.full((n_genes,), -1, dtype=torch.int64)
    slot[batch] = torch.arange(len(batch))
    return batch, slot


@torch.no_grad()
def gene_embeddings(module: GeneTokenTransformer) -> np.ndarray:
    """``H`` of a trained module in eval mode (n_genes x d, float32)."""
    module.eval()
    with tensors_on(next(module.parameters()).device):  # trained on the device gl.tl chose, see models/_device.py
        return module.embed().cpu().numpy().astype(np.float32)


def edge_embeddings(h: np.ndarray, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
    """Hadamard products ``H[tf] * H[gene]`` of the pairs (pairs x d, float64)."""
    h = np.asarray(h, dtype=np.float64)
    return h[np.asarray(tf, dtype=np.int64)] * h[np.asarray(gene, dtype=np.int64)]


def fit_svm(x: np.ndarray, y: np.ndarray, *, kernel: str, c: float, seed: int) -> dict[str, np.ndarray]:
    """Fit a class-balanced SVM on edge embeddings and return its state as numpy arrays.

    ``"rbf"``: ``SVC`` with ``gamma = 1 / (d * x.var())`` (sklearn's ``"scale"``),
    state ``support_vectors``, ``dual_coef``, ``intercept``, ``gamma``.
    ``"linear"``: ``LinearSVC``, state ``coef``, ``intercept``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y).astype(np.int64)
    if kernel == "rbf":
        variance = x.var()
        gamma = 1.0 / (x.shape[1] * variance) if variance > 0 else 1.0
        svm = SVC(kernel="rbf", C=c, gamma=gamma, class_weight="balanced", random_state=seed).fit(x, y)
        return {
            "support_vectors": np.asarray(svm.support_vectors_, dtype=np.float64),
            "dual_coef": np.asarray(svm.dual_coef_, dtype=np.float64).ravel(),
            "intercept": np.asarray(svm.intercept_, dtype=np.float64).ravel(),
            "gamma": np.array([gamma], dtype=np.float64),
        }
    svm = LinearSVC(C=c, class_weight="balanced", random_state=seed).fit(x, y)
    return {
        "coef": np.asarray(svm.coef_, dtype=np.float64).ravel(),
        "intercept": np.asarray(svm.intercept_, dtype=np.float64).ravel(),
    }


def svm_decision(x: np.ndarray, state: dict[str, np.ndarray]) -> np.ndarray:
    """Decision function of an SVM stored by :func:`fit_svm`, in numpy (float64).

    RBF: ``sum_i dual_coef_i exp(-gamma ||x - sv_i||^2) + intercept``, in blocks
    of pairs so that memory stays bounded; linear: ``x @ coef + intercept``.
    """
    x = np.asarray(x, dtype=np.float64)
    intercept = float(np.asarray(state["intercept"]).ravel()[0])
    if "coef" in state:
        return x @ np.asarray(state["coef"], dtype=np.float64) + intercept
    sv = np.asarray(state["support_vectors"], dtype=np.float64)
    dual = np.asarray(state["dual_coef"], dtype=np.float64).ravel()
    gamma = float(np.asarray(state["gamma"]).ravel()[0])
    sv_sq = np.einsum("ij,ij->i", sv, sv)
    out = np.empty(len(x), dtype=np.float64)
    block = max(1, _KERNEL_CHUNK_ELEMENTS // max(len(sv), 1))
    for start in range(0, len(x), block):
        xb = x[start : start + block]
        sq_dist = np.einsum("ij,ij->i", xb, xb)[:, None] + sv_sq[None, :] - 2.0 * (xb @ sv.T)
        out[start : start + block] = np.exp(-gamma * np.maximum(sq_dist, 0.0)) @ dual + intercept
    return out


def resolve_context(context: int | str | None, n_genes: int) -> int | None:
    """Tokens per training sequence (``None``: every gene) for the option ``context``.

    ``"auto"``: every gene up to :data:`FULL_CONTEXT_GENES` (4,096) genes, and
    :data:`AUTO_CONTEXT` (2,048) above. Attention is quadratic in the
    sequence, so a step over every gene of a genome is slow (its time is in
    ``benchmarks/results/scale.md``, "Units of work"); the embeddings that are
    stored and scored always attend over every gene.
    """
    if context == "auto":
        return None if n_genes <= FULL_CONTEXT_GENES else AUTO_CONTEXT
    return None if context is None or int(context) >= n_genes else int(context)


def resolve_svm_kernel(kernel: str, n_training_pairs: int) -> str:
    """The SVM kernel for the option ``svm_kernel``: ``"auto"`` is RBF up to :data:`RBF_TRAINING_PAIRS`, else linear.

    An RBF SVM's fit grows about quadratically with its training pairs, it
    keeps a large share of them as support vectors (stored, and each one read
    for every scored pair); a linear SVM factorises, so genome-wide scoring is
    one matrix product per member.
    """
    if kernel == "auto":
        return "rbf" if n_training_pairs <= RBF_TRAINING_PAIRS else "linear"
    return kernel


def check_options(params: dict[str, Any]) -> None:
    """Raise :class:`InputError` for option combinations the model cannot use.

    Each option's own type and range are checked by :attr:`GNT.schema`.
    """
    if params["d"] % params["n_heads"]:
        raise InputError(f"d ({params['d']}) must be divisible by n_heads ({params['n_heads']}).")


@register
class GNT(NeuralPredictor):
    """GeneNet Transformer (paper 004): gene-token transformer, Hadamard edge embeddings, SVM.

    Options (``gl.tl.grn_fit(..., model="gnt", **options)``):

    ``d`` (64), ``n_heads`` (4), ``n_layers`` (2), ``feedforward`` (256), ``dropout`` (0.1)
        Token width, attention heads, encoder layers, feed-forward width and dropout.
    ``alpha`` (1.0)
        Weight of the projected expression in each gene token (0: identity only).
    ``svm_kernel`` ("auto"), ``svm_c`` (1.0)
        ``"rbf"`` (``SVC``, gamma ``"scale"``) or ``"linear"`` (``LinearSVC``), and
        its regularisation ``C``; classes are balanced. ``"auto"``: RBF up to
        16,384 training pairs (every BEELINE fit), linear above (genome-scale
        priors); see :func:`grnlink.models.gnt.resolve_svm_kernel`.
    ``context`` ("auto")
        Gene tokens per training step's sequence: ``None`` every gene, an
        integer the batch's genes plus randomly drawn ones up to that many;
        ``"auto"`` every gene up to 4,096 genes, 2,048 tokens above (see
        :func:`grnlink.models.gnt.resolve_context`). Stored embeddings always
        attend over every gene.
    ``attention_dropout`` (0.0)
        Dropout on the attention weights (any value > 0 forces PyTorch's unfused attention, several times
        slower on a CPU).
    ``lr`` (5e-3), ``weight_decay`` (0), ``batch_size`` (1024), ``max_epochs`` (60), ``patience`` (10)
        Transformer training with the shared trainer; every step encodes all genes.
    ``n_ensemble`` (3)
        Members (transformer + SVM) with different seeds; decision functions are averaged.
    ``expression_pcs`` (50), ``expression_scaling`` ("component")
        Principal components of per-cell expression in the token's expression input, and their scale
        (:func:`grnlink.models._neural.expression_components`).

    The transformer and the SVM see the training pairs only (as we read the
    paper, its transformer learns from the whole network, test edges included);
    see the module docstring for every change from the paper.

    Examples
    --------
    >>> import grnlink as gl
    >>> adata = gl.ds.simulate(n_genes=120, n_tfs=12, n_cells=300, n_celltypes=4, seed=0)
    >>> split = gl.bm.split(adata.uns["true_network"], adata.var_names, seed=0)
    >>> gl.tl.grn_fit(adata, split.prior, **split.fit_kwargs(), model="gnt", groupby="cell_type", max_epochs=5)
    >>> scores = gl.tl.grn_predict(adata, pairs=split.test)["score"]
    """

    name = "gnt"
    paper = "004: GeneNet Transformer: a transformer-based architecture for gene network inference"
    defaults = {
        **NEURAL_DEFAULTS,
        "lr": 5e-3,
        "batch_size": 1024,
        "max_epochs": 60,
        "n_ensemble": 3,
        "d": 64,
        "n_heads": 4,
        "n_layers": 2,
        "feedforward": 256,
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "alpha": 1.0,
        "svm_kernel": "auto",
        "svm_c": 1.0,
        "context": "auto",
    }
    schema = {
        **NEURAL_SCHEMA,
        "d": POSITIVE_INT,
        "n_heads": POSITIVE_INT,
        "n_layers": POSITIVE_INT,
        "feedforward": POSITIVE_INT,
        "dropout": FRACTION,
        "attention_dropout": FRACTION,
        "alpha": NON_NEGATIVE_NUMBER,
        "svm_kernel": one_of("auto", *SVM_KERNELS),
        "svm_c": POSITIVE_NUMBER,
        "context": any_of(one_of("auto", None), int_at_least(2)),
    }
    search_space = {
        "lr": TRAINER_SEARCH_SPACE["lr"],
        "n_layers": ("int", 1, 3),
        "dropout": ("float", 0.0, 0.3),
        "alpha": ("float", 0.25, 4.0, "log"),
        "svm_c": ("float", 0.1, 10.0, "log"),
    }

    def __init__(self, **params: Any):
        super().__init__(**params)
        check_options(self.params)
        self.embeddings = np.zeros((0, 0, 0), dtype=np.float32)
        self.svms: list[dict[str, np.ndarray]] = []

    def build(self, features: torch.Tensor, n_genes: int) -> nn.Module:
        p = self.params
        return GeneTokenTransformer(
            features,
            n_genes,
            d=int(p["d"]),
            n_heads=int(p["n_heads"]),
            n_layers=int(p["n_layers"]),
            feedforward=int(p["feedforward"]),
            dropout=float(p["dropout"]),
            attention_dropout=float(p["attention_dropout"]),
            alpha=float(p["alpha"]),
            context=resolve_context(p["context"], n_genes),
        )

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        history = super().fit(features, train, val, n_genes=n_genes, seed=seed)
        kernel = resolve_svm_kernel(str(self.params["svm_kernel"]), len(train))
        context = self.members[0].context  # resolved by build()
        history.update(svm_kernel=kernel, context=n_genes if context is None else context)
        self.embeddings = np.stack([gene_embeddings(m) for m in self.members])
        self.svms = [
            fit_svm(
                edge_embeddings(h, train.tf, train.gene),
                train.label,
                kernel=kernel,
                c=float(self.params["svm_c"]),
                seed=seed + i * _MEMBER_SEED_STRIDE,
            )
            for i, h in enumerate(self.embeddings)
        ]
        if "support_vectors" in self.svms[0]:
            history["svm_n_support"] = np.array([len(s["support_vectors"]) for s in self.svms], dtype=np.int64)
        return history

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        decisions = [svm_decision(edge_embeddings(h, tf, gene), s) for h, s in zip(self.embeddings, self.svms)]
        return np.mean(decisions, axis=0)

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray | None:
        """Linear SVMs factorise: ``(H[tf] * w) @ H.T + b``; the RBF kernel does not (``None``)."""
        if not self.svms or any("coef" not in s for s in self.svms):
            return None
        tf = np.asarray(tf, dtype=np.int64)
        decisions = []
        for h, svm in zip(self.embeddings, self.svms):
            h = np.asarray(h, dtype=np.float64)
            decisions.append((h[tf] * svm["coef"]) @ h.T + float(np.ravel(svm["intercept"])[0]))
        return np.mean(decisions, axis=0)

    def get_state(self) -> dict[str, Any]:
        # scoring reads the gene embeddings and the SVMs only: the transformers (each with a genes x d identity
        # table) and their inputs are not stored (format 4; earlier formats kept them, and still load)
        return {"embeddings": self.embeddings, "svm": {f"member{i}": dict(s) for i, s in enumerate(self.svms)}}

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.features = features
        self.members = []
        embeddings = np.asarray(state["embeddings"], dtype=np.float32)
        if embeddings.ndim != 3 or embeddings.shape[1] != n_genes:
            raise ValueError(f"embeddings have shape {embeddings.shape}, not (members, {n_genes}, d)")
        self.embeddings = embeddings
        svm = state["svm"]
        self.svms = [
            {k: np.asarray(v, dtype=np.float64) for k, v in svm[f"member{i}"].items()} for i in range(len(svm))
        ]
