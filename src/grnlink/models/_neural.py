"""Shared machinery of the neural predictors: ensembles, training and state.

A neural predictor only says how to build its network
(:meth:`NeuralPredictor.build`); training goes through
:func:`~grnlink.models._trainer.train_module`, scoring averages the members'
probabilities, and the weights become numpy arrays for ``adata.uns``.
"""

from __future__ import annotations

import copy
import weakref
from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np
import scipy.linalg
import torch
from scipy.special import expit
from torch import nn

from .._pairs import PairSet
from .._validation import POSITIVE_INT, one_of, optional
from ._base import LinkPredictor, stack_features
from ._device import current_device, move, tensors_on
from ._trainer import TRAINER_DEFAULTS, TRAINER_SCHEMA, predict_logits, train_module

#: how the expression components are scaled (:func:`expression_components`)
EXPRESSION_SCALINGS = ("component", "shared")
NEURAL_DEFAULTS: dict[str, Any] = {
    **TRAINER_DEFAULTS,
    "n_ensemble": 1,
    "expression_pcs": 50,
    "expression_scaling": "component",
}
NEURAL_SCHEMA = {
    **TRAINER_SCHEMA,
    "n_ensemble": POSITIVE_INT,
    "expression_pcs": optional(POSITIVE_INT),
    "expression_scaling": one_of(*EXPRESSION_SCALINGS),
}
_MEMBER_SEED_STRIDE = 1_000_003  # members get well-separated seeds


def mlp(sizes: list[int], dropout: float, *, last_plain: bool = True) -> nn.Sequential:
    """Fully connected layers ``sizes[0] -> ... -> sizes[-1]`` with batch norm, ReLU and dropout.

    The last layer is a plain linear map when ``last_plain`` (an output layer).
    """
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if last_plain and i == len(sizes) - 2:
            break
        layers += [nn.BatchNorm1d(n_out), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class RoleEmbedding(nn.Embedding):
    """Learnable identity embeddings of the genes that hold a role (e.g. the TFs), looked up by gene position.

    A table over every gene would cost memory, optimiser work and storage in
    proportion to the genome although only the role's rows are ever looked up
    (20,000 genes x 512 per ensemble member for two_tower's TF side). Rows
    exist for ``genes`` only; any other gene reads one zero row that training
    never changes (``padding_idx``). The table is initialised by drawing the
    full ``n_genes x dim`` table as :class:`torch.nn.Embedding` would and
    keeping the role's rows, so the random stream, and with it every other
    layer's initial weights, is the same as with a full table. When ``genes``
    is every gene, this is a plain embedding table (and reads models stored
    before the table was cut).
    """

    def __init__(self, n_genes: int, dim: int, genes: np.ndarray):
        genes = np.asarray(genes, dtype=np.int64)
        full = torch.empty(n_genes, dim).normal_()
        every_gene = len(genes) == n_genes
        rows = full[torch.from_numpy(genes)]
        if not every_gene:
            rows = torch.cat([rows, rows.new_zeros(1, dim)])
        super().__init__(len(rows), dim, padding_idx=None if every_gene else len(genes), _weight=rows)
        row = torch.full((n_genes,), len(genes), dtype=torch.int64)
        row[torch.from_numpy(genes)] = torch.arange(len(genes))
        self.register_buffer("row", row, persistent=False)

    def forward(self, genes: torch.Tensor) -> torch.Tensor:
        return super().forward(self.row[genes])


def expression_components(z: np.ndarray, n_components: int | None, scaling: str = "component") -> np.ndarray:
    """Leading principal components of standardised per-cell expression (genes x cells).

    Row ``g`` holds gene ``g``'s coordinates on the top ``n_components``
    axes of cell space. With hundreds of genes but thousands of cells, a
    network fed the raw profiles has more input weights than training pairs;
    the components keep the co-expression structure in a few dimensions.
    ``None``, or at least as many components as cells, returns ``z`` unchanged.

    ``scaling`` (the models' option ``expression_scaling``):

    - ``"component"`` (the default): each component scaled to unit variance,
      so that every axis enters the network on one scale, the 50th as loud as
      the first;
    - ``"shared"``: one factor for all of them (unit mean variance), which
      keeps their relative variances, so that dot products between genes
      approximate correlations, dominated by the leading axes.

    On BEELINE data the per-component scale is level or ahead on validation
    pairs; on ``gl.ds.simulate``, whose network drives a few leading axes,
    the shared scale lets the neural models read the co-expression
    (``benchmarks/results/expression_scaling.md``).

    The components come from a truncated eigendecomposition of the smaller
    Gram matrix (cells x cells or genes x genes): the same as the leading
    singular vectors of a full SVD to about 1e-12, at a fraction of its cost
    (20,000 genes x 2,000 cells: one matrix product and a 50-vector
    eigensolve instead of a full SVD). Each component's sign is fixed so that
    its largest entry is positive, which makes the result deterministic.
    """
    if n_components is None or n_components >= min(np.shape(z)):
        return np.asarray(z, dtype=np.float32)
    comps, _ = shared_components(z, n_components)
    scale = comps.std(axis=0)
    if scaling == "shared":
        scale = np.full_like(scale, np.sqrt(np.mean(scale**2)))
    return (comps / np.where(scale > 0, scale, 1.0)).astype(np.float32)


_COMPONENTS: dict[int, tuple[weakref.ref, dict[int, tuple[np.ndarray, np.ndarray]]]] = {}


def shared_components(z: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`leading_components` of ``z``, computed once per array object and number of components.

    Every model of a fit receives the same ``features["expression"]`` array:
    ensemble members, ``stack``'s base models in each cross-fitting fold, and
    ``sctransnet``'s cell context then share one eigensolve (seconds each at
    genome scale: ``benchmarks/results/design_checks.md``) instead of
    repeating it. The cache holds a weak reference: it empties when the array
    is freed. Treat the result as read-only.
    """
    key = id(z)
    entry = _COMPONENTS.get(key)
    if entry is None or entry[0]() is not z:
        entry = (weakref.ref(z, lambda _, key=key: _COMPONENTS.pop(key, None)), {})
        _COMPONENTS[key] = entry
    computed = entry[1]
    if n_components not in computed:
        computed[n_components] = leading_components(z, n_components)
    return computed[n_components]


def leading_components(z: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """``(U S, V)`` of the leading ``n_components`` singular triplets of ``z`` (genes x cells), float64.

    Computed by a truncated eigendecomposition of the smaller Gram matrix;
    each component's sign is fixed so that its largest gene entry is positive.
    """
    z = np.asarray(z, dtype=np.float64)
    n_genes, n_cells = z.shape
    k = int(min(n_components, n_genes, n_cells))
    if n_cells <= n_genes:
        values, cell_axes = scipy.linalg.eigh(z.T @ z, subset_by_index=[n_cells - k, n_cells - 1])
        cell_axes = cell_axes[:, ::-1]
        comps = z @ cell_axes
    else:
        values, gene_axes = scipy.linalg.eigh(z @ z.T, subset_by_index=[n_genes - k, n_genes - 1])
        singular = np.sqrt(np.clip(values[::-1], 0.0, None))
        comps = gene_axes[:, ::-1] * singular
        cell_axes = np.divide(z.T @ gene_axes[:, ::-1], singular, out=np.zeros((n_cells, k)), where=singular > 0)
    largest = comps[np.argmax(np.abs(comps), axis=0), np.arange(k)]
    sign = np.where(largest < 0, -1.0, 1.0)
    return comps * sign, cell_axes * sign


def training_graph(train: PairSet) -> np.ndarray:
    """Edge index (2 x E, TF row then target row) of the training positives only.

    Graph models message-pass over this graph; validation, test and excluded
    pairs never enter it, so their labels cannot leak through the graph.
    """
    positive = train.label == 1
    return np.stack([train.tf[positive], train.gene[positive]]).astype(np.int64)


class NeuralPredictor(LinkPredictor):
    """A torch network trained by the shared trainer, optionally as an ensemble.

    ``n_ensemble`` members are trained with seeds ``seed``, ``seed + stride``, ...
    and their probabilities averaged; each member's validation AUROC is kept so
    that the cross-seed coefficient of variation can be reported.

    A subclass implements :meth:`build`. Graph models set ``uses_graph = True``
    and read ``self.graph`` (edge index of the training positives, see
    :func:`training_graph`) inside :meth:`build`; it is stored with the state.

    Members are built on the CPU and trained and scored on the device that
    ``gl.tl`` sets (:func:`~grnlink.models._device.on_device`; the CPU by
    default), where they stay until the next call moves them; their state,
    scores and pickled copies (e.g. sent to dask workers) are always on the CPU.
    """

    defaults = NEURAL_DEFAULTS
    schema = NEURAL_SCHEMA
    uses_graph: ClassVar[bool] = False

    def __init__(self, **params: Any):
        super().__init__(**params)
        self.members: list[nn.Module] = []
        self.inputs = np.zeros((0, 0), dtype=np.float32)
        self.graph = np.zeros((2, 0), dtype=np.int64)
        self.tf_genes: np.ndarray | None = None  # genes with a TF identity embedding; None: every gene

    @abstractmethod
    def build(self, features: torch.Tensor, n_genes: int) -> nn.Module:
        """A freshly initialised network over ``features`` (genes x d) for ``n_genes`` genes."""

    def tf_embedding(self, n_genes: int, dim: int) -> RoleEmbedding:
        """Identity embeddings of the TF role: rows for the TFs of the fit's pairs only (:class:`RoleEmbedding`)."""
        return RoleEmbedding(n_genes, dim, np.arange(n_genes) if self.tf_genes is None else self.tf_genes)

    def network_inputs(self, features: dict[str, np.ndarray], n_genes: int) -> np.ndarray:
        """Genes x d matrix the networks read: the feature groups, expression reduced to its components."""
        groups = dict(features)
        if "expression" in groups:
            groups["expression"] = expression_components(
                groups["expression"], self.params["expression_pcs"], self.params["expression_scaling"]
            )
        return stack_features(groups, n_genes)

    def _new_member(self, inputs: np.ndarray, n_genes: int, seed: int) -> nn.Module:
        x = torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return self.build(x, n_genes)

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        return ()  # the network inputs are part of the state

    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        self.check_features(features)
        self.features = features
        self.inputs = self.network_inputs(features, n_genes)
        self.tf_genes = np.unique(np.concatenate([train.tf, val.tf])).astype(np.int64)
        if self.uses_graph:
            self.graph = training_graph(train)
        trainer_args = {k: self.params[k] for k in TRAINER_DEFAULTS}
        device = current_device()
        n_members = int(self.params["n_ensemble"])
        self.members, histories = [], []
        for i in range(n_members):
            member_seed = seed + i * _MEMBER_SEED_STRIDE
            module = self._new_member(self.inputs, n_genes, member_seed)
            desc = f"{self.name}" + (f" {i + 1}/{n_members}" if n_members > 1 else "")
            histories.append(
                train_module(module, train, val, seed=member_seed, desc=desc, device=device, **trainer_args)
            )
            self.members.append(module)
        return _merge_histories(histories)

    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        probs = [expit(predict_logits(m, tf, gene).astype(np.float64)) for m in self.members]
        return np.mean(probs, axis=0)

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray | None:
        """Members' mean probability of each TF against every gene, for networks with a ``logit_matrix`` method."""
        if not self.members or not all(hasattr(m, "logit_matrix") for m in self.members):
            return None
        device = current_device()
        tf_t = torch.from_numpy(np.asarray(tf, dtype=np.int64)).to(device)
        probs = []
        with torch.no_grad(), tensors_on(device):
            for member in self.members:
                move(member, device).eval()
                logits = member.logit_matrix(tf_t)
                if logits is None:  # this configuration of the network does not factorise
                    return None
                probs.append(expit(logits.double().cpu().numpy()))
        return np.mean(probs, axis=0)

    def __getstate__(self) -> dict[str, Any]:
        # pickled (dask scatters fitted models to its workers) with CPU members, which unpickle anywhere
        state = self.__dict__.copy()
        if any(t.device.type != "cpu" for m in self.members for t in (*m.parameters(), *m.buffers())):
            state["members"] = [move(copy.deepcopy(m), torch.device("cpu")) for m in self.members]
        return state

    def get_state(self) -> dict[str, Any]:
        # the network inputs are stored, not recomputed, so that a reloaded model scores bit for bit the same
        members = {
            f"member{i}": {k: v.detach().cpu().numpy().copy() for k, v in m.state_dict().items()}
            for i, m in enumerate(self.members)
        }
        state = {"inputs": self.inputs, "members": members, "tf_genes": self.tf_genes}
        if self.uses_graph:
            state["graph"] = self.graph
        return state

    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        self.features = features
        self.inputs = np.asarray(state["inputs"], dtype=np.float32)
        # stored before format 3: every gene had a TF identity embedding
        self.tf_genes = np.asarray(state["tf_genes"], dtype=np.int64).ravel() if "tf_genes" in state else None
        if (
            self.tf_genes is not None
            and len(self.tf_genes)
            and not 0 <= self.tf_genes.min() <= self.tf_genes.max() < n_genes
        ):
            raise ValueError(f"tf_genes holds gene positions outside [0, {n_genes})")
        if self.uses_graph:
            self.graph = np.asarray(state["graph"], dtype=np.int64).reshape(2, -1)
        self.members = []
        for i in range(len(state["members"])):
            module = self._new_member(self.inputs, n_genes, 0)
            weights = {k: torch.as_tensor(np.asarray(v)) for k, v in state["members"][f"member{i}"].items()}
            module.load_state_dict(weights)
            module.eval()
            self.members.append(module)

    def n_parameters(self, features: dict[str, np.ndarray], n_genes: int) -> int:
        """Number of trainable parameters of one member built on ``features``."""
        module = self._new_member(self.network_inputs(features, n_genes), n_genes, 0)
        return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _merge_histories(histories: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack per-member curves into (members x epochs) arrays padded with NaN."""
    n_epochs = max(len(h["loss"]) for h in histories)

    def pad(key: str) -> np.ndarray:
        out = np.full((len(histories), n_epochs), np.nan)
        for i, h in enumerate(histories):
            out[i, : len(h[key])] = h[key]
        return out

    merged: dict[str, Any] = {k: pad(k) for k in ("loss", "val_loss", "val_auroc")}
    merged["best_epoch"] = np.array([h["best_epoch"] for h in histories], dtype=np.int64)
    merged["n_epochs"] = np.array([h["n_epochs"] for h in histories], dtype=np.int64)
    best_auroc = np.array(
        [h["val_auroc"][h["best_epoch"]] if len(h["val_auroc"]) else np.nan for h in histories], dtype=np.float64
    )
    merged["member_val_auroc"] = best_auroc
    if len(histories) > 1 and np.isfinite(best_auroc).all() and best_auroc.mean() > 0:
        merged["member_cv"] = float(best_auroc.std(ddof=1) / best_auroc.mean())
    return merged
