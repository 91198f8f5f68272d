"""The interface every link predictor implements.

A predictor is built from hyper-parameters, learns in :meth:`LinkPredictor.fit`
and scores pairs in :meth:`LinkPredictor.score` without ever training there.
Its learned state is a nested dict of numpy arrays so that it can live in
``adata.uns`` and survive ``write_h5ad``.

Every option in :attr:`LinkPredictor.defaults` has a rule in
:attr:`LinkPredictor.schema` (the rules live in :mod:`grnlink._validation`:
``POSITIVE_INT``, ``number_in(...)``, ``one_of(...)``, ...). Options are checked
against it when the predictor is built, i.e. before ``grn_fit`` does any work,
and the test suite fails for a registered model whose schema does not cover
its defaults. A new model declares both side by side::

    defaults = {**NEURAL_DEFAULTS, "d": 64}
    schema = {**NEURAL_SCHEMA, "d": POSITIVE_INT}
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from .._pairs import PairSet
from .._validation import InputError, Rule

FEATURE_GROUPS = ("expression", "celltype_means", "embedding", "gene_stats")


class LinkPredictor(ABC):
    """Base class: hyper-parameter handling, the fit/score contract and state I/O.

    Subclasses set :attr:`name`, :attr:`paper`, :attr:`defaults` with its
    :attr:`schema` (one :class:`~grnlink._validation.Rule` per option) and
    implement :meth:`fit`, :meth:`score`, :meth:`get_state` and :meth:`set_state`.
    A wrong option value raises :class:`~grnlink.InputError` naming the option,
    the value and what is allowed.

    :attr:`search_space` lists the options :func:`grnlink.tl.grn_tune` may
    search, each as a small tuple: ``("float", low, high)`` or ``("int", low,
    high)``, with a fourth entry ``"log"`` to search on a log scale, or
    ``("categorical", [choice, ...])``. Every default must lie inside its
    range; an empty space means there is nothing to tune.
    """

    name: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    supervised: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, Any]] = {}
    search_space: ClassVar[dict[str, tuple]] = {}
    schema: ClassVar[dict[str, Rule]] = {}
    #: state arrays holding gene positions (e.g. a graph; nested ones as "a/b"); a stored model must keep them in range
    gene_positions: ClassVar[tuple[str, ...]] = ()
    #: whether :meth:`for_cells` can score with the features of a subset of the fit's cells (per-group networks)
    per_group: ClassVar[bool] = False

    def __init__(self, **params: Any):
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            raise InputError(
                f"model {self.name!r} has no option(s) {unknown}. "
                f"Its options are {sorted(self.defaults)}; see help(gl.models.{type(self).__name__})."
            )
        self.params: dict[str, Any] = {**self.defaults, **params}
        for option, value in self.params.items():
            rule = self.schema.get(option)
            if rule is not None:
                rule.check(option, value, owner=f"model {self.name!r}")
        self.features: dict[str, np.ndarray] = {}

    def state_gene_positions(self, state: Mapping[str, Any]) -> tuple[str, ...]:
        """Paths (``"a/b"``) of the arrays of a stored ``state`` that hold gene positions: :attr:`gene_positions`,
        unless the layout of the state depends on how the model was fitted."""
        return self.gene_positions

    def check_features(self, features: dict[str, np.ndarray]) -> None:
        """Raise when a feature group the model needs is missing."""
        missing = [g for g in self.requires if g not in features]
        if missing:
            raise InputError(
                f"model {self.name!r} needs the feature group(s) {missing}, but only {sorted(features)} were built. "
                f"Include them, e.g. features={tuple(sorted(set(features) | set(missing)))}."
            )

    def scoring_features(self, groups: tuple[str, ...]) -> tuple[str, ...]:
        """The feature groups, of the ``groups`` a fit built, that :meth:`score` reads after the fit.

        Only these go into ``adata.uns`` with the model. The default is every
        group; a model that keeps what it needs in its state returns ``()``.
        """
        return tuple(groups)

    @abstractmethod
    def fit(
        self, features: dict[str, np.ndarray], train: PairSet, val: PairSet, *, n_genes: int, seed: int
    ) -> dict[str, Any]:
        """Learn from labelled ``train`` pairs, early-stopping on ``val``; return the training history."""

    @abstractmethod
    def score(self, tf: np.ndarray, gene: np.ndarray) -> np.ndarray:
        """Scores (higher = more likely an edge) of the pairs ``(tf[i], gene[i])`` as float64."""

    def score_matrix(self, tf: np.ndarray, n_genes: int) -> np.ndarray | None:
        """Scores of each TF in ``tf`` against every gene (``len(tf) x n_genes``, float64), or ``None``.

        A model whose score factorises over the two genes of a pair (an
        encoding per gene and a product) overrides this to encode each gene
        once and take one matrix product, which genome-wide scoring then uses
        instead of scoring ``len(tf) x n_genes`` pairs one by one. The scores
        equal :meth:`score`'s up to float rounding. ``None``: no such shortcut.
        """
        return None

    def for_cells(self, features: dict[str, np.ndarray], cells: np.ndarray) -> LinkPredictor:
        """A copy of this fitted model that scores with the gene features of a subset of the fit's cells.

        ``features`` holds the expression-derived groups rebuilt from those
        cells alone (``expression``: genes x cells, standardised over them;
        ``gene_stats``), ``cells`` their positions among the fit's cells.
        Everything else the model learned (weights, graph, the other feature
        groups) is kept; the model itself is not changed. Models whose gene
        features are fixed at fit time raise ``NotImplementedError``.
        """
        raise NotImplementedError(f"{self.name} cannot score with the features of a subset of cells")

    @abstractmethod
    def get_state(self) -> dict[str, Any]:
        """Learned state as a (nested) dict of numpy arrays."""

    @abstractmethod
    def set_state(self, features: dict[str, np.ndarray], state: dict[str, Any], *, n_genes: int) -> None:
        """Restore a fitted model from the features it was fitted on and :meth:`get_state` output."""


def stack_features(features: dict[str, np.ndarray], n_genes: int) -> np.ndarray:
    """Concatenate the feature groups column-wise in a fixed order (float32, genes x d)."""
    blocks = [np.asarray(features[g], dtype=np.float32) for g in FEATURE_GROUPS if g in features]
    if not blocks:
        return np.zeros((n_genes, 0), dtype=np.float32)
    return np.concatenate(blocks, axis=1)
